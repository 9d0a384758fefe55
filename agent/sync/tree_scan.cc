#include "agent/sync/tree_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/sync/beneath.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/path.h"

namespace sb::sync {
namespace {

using base::Status;

struct Walker {
  const ScanOptions& options;
  std::string root;
  dev_t device = 0;
  std::vector<ManifestEntry> out;

  Status Error(const std::string& path, std::string_view why) const {
    return Status::Invalid(fmt::format("{}/{}: {}", root, path, why));
  }

  Status HashFile(int dir_fd, const char* name, const std::string& path, ManifestEntry* e) {
    const std::string where = fmt::format("{}/{}", root, path);
    base::UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno(where, errno);
    Sha256 sha;
    uint64_t total = 0;
    SB_RETURN_IF_ERROR(base::ReadFd(fd.get(), where, [&](std::string_view piece) {
      sha.Update(piece.data(), piece.size());
      total += piece.size();
      return Status::Ok();
    }));
    if (total != e->size) return Error(path, "changed while it was being read");
    e->sha256 = sha.Finish();
    return Status::Ok();
  }

  void Record(const ManifestEntry& e, const struct stat& st) const {
    if (options.record == nullptr) return;
    options.record->PutOther(e.path, {e.type, e.mode, st.st_uid, st.st_gid, e.link_target});
  }

  // Reads the directory `prefix` (open as `dir`, owned) into `out`, pushing
  // its subdirectories on `pending`.
  Status ReadDirectory(base::UniqueFd dir_fd, const std::string& prefix, int depth,
                       std::vector<std::pair<std::string, int>>* pending) {
    DIR* dir = ::fdopendir(dir_fd.get());
    if (dir == nullptr) return Status::FromErrno(fmt::format("{}/{}", root, prefix), errno);
    dir_fd.Release();  // closedir closes it
    Status result;
    while (dirent* d = ::readdir(dir)) {
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      if (prefix.empty() && name == kStagingDirName) continue;
      if (out.size() >= options.max_entries) {
        result = Error(prefix, fmt::format("more than {} entries", options.max_entries));
        break;
      }
      std::string path = ChildPath(prefix, name);
      struct stat st;
      if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // removed while we looked
        result = Status::FromErrno(fmt::format("{}/{}", root, path), errno);
        break;
      }
      ManifestEntry e;
      e.path = path;
      e.mode = st.st_mode & 07777;
      e.mtime_s = st.st_mtim.tv_sec;
      if (S_ISREG(st.st_mode)) {
        e.type = NodeType::kFile;
        e.size = static_cast<uint64_t>(st.st_size);
        if (options.hash_files) {
          size_t index = 0;
          const CachedHash* cached = options.cache ? options.cache->Find(path, &index) : nullptr;
          uint64_t verified = options.pass;
          bool recorded = false;
          if (cached != nullptr && cached->Matches(st)) {
            e.sha256 = cached->sha256;
            verified = cached->verified;
            if (options.reused != nullptr) options.reused->push_back(out.size());
            if (options.unchanged != nullptr) {
              (*options.unchanged)[index] = true;
              recorded = true;  // by its mark: the record holds the others
            }
          } else {
            result = HashFile(::dirfd(dir), name.c_str(), path, &e);
            if (!result.ok()) break;
            if (options.hashed_bytes != nullptr) *options.hashed_bytes += e.size;
          }
          if (options.record != nullptr && !recorded) {
            options.record->Put(path, CachedHash::Of(st, e.sha256, verified));
          }
        }
        out.push_back(std::move(e));
      } else if (S_ISLNK(st.st_mode)) {
        e.type = NodeType::kSymlink;
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = ::readlinkat(::dirfd(dir), name.c_str(), target.data(), target.size());
        if (n < 0) {
          result = Status::FromErrno(fmt::format("{}/{}", root, path), errno);
          break;
        }
        target.resize(static_cast<size_t>(n));
        e.link_target = std::move(target);
        Record(e, st);
        out.push_back(std::move(e));
      } else if (S_ISDIR(st.st_mode)) {
        e.type = NodeType::kDirectory;
        Record(e, st);
        out.push_back(std::move(e));
        if (st.st_dev != device) {
          result = Error(path, "is another filesystem mounted inside the target");
          break;
        }
        if (depth + 1 > options.max_depth) {
          result = Error(path, fmt::format("deeper than {} levels", options.max_depth));
          break;
        }
        pending->emplace_back(std::move(path), depth + 1);
      } else {
        result = Error(path, "is a device, FIFO or socket; a restore target holds none");
        break;
      }
    }
    ::closedir(dir);
    return result;
  }

  // Depth first, one directory open at a time: a tree as deep as a path
  // allows (2,048 levels) needs no more descriptors than a flat one. Each
  // directory is reopened from the root without following a symlink.
  Status Walk(int root_fd) {
    std::vector<std::pair<std::string, int>> pending;
    base::UniqueFd first(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (!first.valid()) return Status::FromErrno(root, errno);
    SB_RETURN_IF_ERROR(ReadDirectory(std::move(first), "", 0, &pending));
    while (!pending.empty()) {
      auto [path, depth] = std::move(pending.back());
      pending.pop_back();
      base::Result<base::UniqueFd> fd = OpenBeneath(root_fd, path, O_RDONLY | O_DIRECTORY);
      if (!fd.ok()) {
        if (fd.status().code() == base::Code::kNotFound) continue;  // removed while we looked
        return fd.status().WithContext(root);
      }
      SB_RETURN_IF_ERROR(ReadDirectory(std::move(*fd), path, depth, &pending));
    }
    return Status::Ok();
  }
};

}  // namespace

base::Result<std::vector<ManifestEntry>> ScanTree(const std::string& root,
                                                  const ScanOptions& options) {
  base::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return std::vector<ManifestEntry>();
    if (errno == ELOOP || errno == ENOTDIR) {
      return Status::Invalid(fmt::format("{}: is a symlink or not a directory", root));
    }
    return Status::FromErrno(root, errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(root, errno);
  Walker w{options, root, st.st_dev, {}};
  // Most likely the tree the last restore left: as many entries.
  if (options.expected_entries > 0) {
    w.out.reserve(std::min(options.expected_entries, options.max_entries));
  } else if (options.cache != nullptr) {
    w.out.reserve(options.cache->size() + options.cache->others().size());
  }
  if (options.cache != nullptr) {
    if (options.unchanged != nullptr) {
      options.unchanged->assign(options.cache->size(), false);
    } else if (options.record != nullptr) {
      options.record->ReserveLike(*options.cache);
    }
  }
  SB_RETURN_IF_ERROR(w.Walk(fd.get()));
  return std::move(w.out);
}

}  // namespace sb::sync
