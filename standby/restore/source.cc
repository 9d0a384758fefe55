#include "standby/restore/source.h"

#include <archive.h>
#include <archive_entry.h>
#include <glob.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include <fmt/format.h>

#include "agent/sync/path.h"

namespace sb::restore {
namespace {

using base::Result;
using base::Status;

int64_t MtimeNs(const struct stat& st) {
  return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// "./a/b/" -> "a/b"; "./" -> "".
std::string Normalize(std::string_view path) {
  while (path.starts_with("./")) path.remove_prefix(2);
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == ".") return "";
  return std::string(path);
}

std::string_view TypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile:
      return "a file";
    case EntryType::kDirectory:
      return "a directory";
    case EntryType::kSymlink:
      return "a symlink";
    case EntryType::kHardlink:
      return "a hard link";
  }
  return "an entry";
}

}  // namespace

Result<ResolvedSource> ResolveSource(const std::string& configured) {
  std::string path = configured;
  if (configured.find_first_of("*?[") != std::string::npos) {
    glob_t g{};
    int rc = ::glob(configured.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc != 0) {
      ::globfree(&g);
      return Status::NotFound(fmt::format("no file matches the source {}", configured));
    }
    int64_t newest = -1;
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st;
      if (::stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
      // Newest wins; on equal times the later name, so the choice is stable.
      if (MtimeNs(st) > newest || (MtimeNs(st) == newest && g.gl_pathv[i] > path)) {
        newest = MtimeNs(st);
        path = g.gl_pathv[i];
      }
    }
    ::globfree(&g);
    if (newest < 0) {
      return Status::NotFound(fmt::format("no regular file matches the source {}", configured));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::FromErrno(fmt::format("backup source {}", path), errno);
  }
  ResolvedSource r;
  r.path = path;
  // A symlink given as the source (backups/latest -> 2026-11-30) is followed,
  // and only that one: the reader itself never follows a symlink, so read
  // unresolved, the source would be one symlink and no entries.
  while (r.path.size() > 1 && r.path.back() == '/') r.path.pop_back();
  struct stat link;
  if (::lstat(r.path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    char resolved[PATH_MAX];
    if (::realpath(r.path.c_str(), resolved) == nullptr) {
      return Status::FromErrno(fmt::format("backup source {}", path), errno);
    }
    r.followed = r.path;
    r.path = resolved;
  }
  if (S_ISDIR(st.st_mode)) {
    r.kind = ResolvedSource::Kind::kDirectory;
  } else if (S_ISREG(st.st_mode)) {
    r.kind = ResolvedSource::Kind::kArchive;
    r.file_mtime_ns = MtimeNs(st);
  } else {
    return Status::Invalid(
        fmt::format("backup source {} is neither a directory nor an archive file", path));
  }
  return r;
}

Result<std::unique_ptr<SourceReader>> SourceReader::Open(const ResolvedSource& source) {
  archive* a = nullptr;
  int rc = ARCHIVE_OK;
  if (source.kind == ResolvedSource::Kind::kDirectory) {
    a = archive_read_disk_new();
    archive_read_disk_set_symlink_physical(a);  // a symlink is an entry, never followed
    // Only what a manifest needs: no xattrs, ACLs or flags (not restored),
    // and no sparse-file probing, which opens and seeks every file (holes are
    // not kept, as with rsync without -S).
    archive_read_disk_set_behavior(a, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                          ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
    rc = archive_read_disk_open(a, source.path.c_str());
  } else {
    a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    rc = archive_read_open_filename(a, source.path.c_str(), size_t{256} * 1024);
  }
  if (rc != ARCHIVE_OK) {
    std::string why = archive_error_string(a) ? archive_error_string(a) : "unreadable";
    archive_free(a);
    return Status::Invalid(fmt::format("backup source {}: {}", source.path, why));
  }
  return std::unique_ptr<SourceReader>(new SourceReader(source, a));
}

Result<std::unique_ptr<SourceReader>> SourceReader::OpenArchiveBytes(std::string_view bytes,
                                                                     const std::string& name) {
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
    std::string why = archive_error_string(a) ? archive_error_string(a) : "unreadable";
    archive_free(a);
    return Status::Invalid(fmt::format("backup source {}: {}", name, why));
  }
  ResolvedSource source;
  source.kind = ResolvedSource::Kind::kArchive;
  source.path = name;
  return std::unique_ptr<SourceReader>(new SourceReader(source, a));
}

SourceReader::~SourceReader() { archive_free(a_); }

Status SourceReader::Fail(std::string_view entry, std::string_view why) const {
  return Status::Invalid(
      fmt::format("backup source {}: entry \"{}\": {}", source_.path, entry, why));
}

Status SourceReader::CheckEntry(const SourceEntry& e) {
  // The same checks as the agent makes of every path it is sent, so a dry
  // run refuses what the real restore would.
  Status path = sync::CheckRestorePath(e.path);
  if (!path.ok()) return Fail(e.path, path.message());
  if (auto earlier = seen_.find(e.path); earlier != seen_.end()) {
    return Fail(e.path, fmt::format("appears twice in the source (as {}, then as {}); which one "
                                    "is the backup's is not clear",
                                    TypeName(earlier->second), TypeName(e.type)));
  }
  // A file written through a symlink the source made would land wherever
  // the symlink points: refuse any path below one (none can be before the
  // first symlink).
  for (size_t slash = symlinks_ == 0 ? std::string::npos : e.path.find('/');
       slash != std::string::npos; slash = e.path.find('/', slash + 1)) {
    std::string_view prefix = std::string_view(e.path).substr(0, slash);
    if (auto it = seen_.find(prefix); it != seen_.end() && it->second == EntryType::kSymlink) {
      return Fail(e.path, fmt::format("passes through the symlink \"{}\"", prefix));
    }
  }
  if (e.type == EntryType::kHardlink) {
    Status target = sync::CheckRestorePath(e.link_target);
    if (!target.ok()) {
      return Fail(e.path,
                  fmt::format("hard link target \"{}\": {}", e.link_target, target.message()));
    }
    if (e.link_target == e.path) return Fail(e.path, "hard link to itself");
  }
  // On disk, a hard link's target is the earlier path of its inode
  // (disk_inodes_), and a walk names each path once (ListSource checks):
  // only an archive's entries need every earlier path.
  if (e.type == EntryType::kHardlink && source_.kind != ResolvedSource::Kind::kDirectory) {
    auto it = seen_.find(e.link_target);
    if (it == seen_.end()) {
      return Fail(e.path,
                  fmt::format("hard link to \"{}\", which is not an earlier entry", e.link_target));
    }
    if (it->second != EntryType::kFile && it->second != EntryType::kHardlink) {
      return Fail(e.path, fmt::format("hard link to {} \"{}\"; only files have hard links",
                                      TypeName(it->second), e.link_target));
    }
  }
  if (e.type == EntryType::kSymlink) {
    Status target = sync::CheckSymlinkTarget(e.link_target);
    if (!target.ok()) return Fail(e.path, target.message());
  }
  return Status::Ok();
}

Result<bool> SourceReader::Next(SourceEntry* e) {
  for (;;) {
    archive_entry* ae = nullptr;
    int rc = archive_read_next_header(a_, &ae);
    if (rc == ARCHIVE_EOF) return false;
    if (rc < ARCHIVE_WARN) {
      return Status::Invalid(
          fmt::format("backup source {}: {}", source_.path,
                      archive_error_string(a_) ? archive_error_string(a_) : "unreadable"));
    }
    const bool disk = source_.kind == ResolvedSource::Kind::kDirectory;
    if (disk) archive_read_disk_descend(a_);
    const char* raw = archive_entry_pathname(ae);
    if (raw == nullptr) return Fail("?", "entry without a path");
    std::string_view name(raw);
    if (disk) {
      // Disk entries carry the root in front. The root must still be the
      // directory ResolveSource saw: one swapped for a symlink since would
      // read as an empty source.
      if (name == source_.path) {
        if (archive_entry_filetype(ae) != AE_IFDIR) {
          return Status::FailedPrecondition(fmt::format(
              "backup source {} is no longer a directory (it changed while it was read)",
              source_.path));
        }
        continue;
      }
      if (!name.starts_with(source_.path + "/")) return Fail(name, "outside the source");
      name.remove_prefix(source_.path.size() + 1);
    }
    *e = SourceEntry();
    e->path = Normalize(name);
    if (e->path.empty()) continue;  // the archive's "./"
    e->mode = archive_entry_perm(ae);
    e->mtime_ns = int64_t{archive_entry_mtime(ae)} * 1'000'000'000 + archive_entry_mtime_nsec(ae);
    e->uid = archive_entry_uid(ae);
    if (disk) {
      e->inode = static_cast<uint64_t>(archive_entry_ino64(ae));
      e->ctime_ns = int64_t{archive_entry_ctime(ae)} * 1'000'000'000 + archive_entry_ctime_nsec(ae);
    }
    e->gid = archive_entry_gid(ae);
    // Hard links: an archive names them; on disk, a file seen before by
    // device and inode is one.
    std::string disk_link;
    if (disk && archive_entry_filetype(ae) == AE_IFREG && archive_entry_nlink(ae) > 1) {
      auto [it, first] = disk_inodes_.try_emplace({static_cast<uint64_t>(archive_entry_dev(ae)),
                                                   static_cast<uint64_t>(archive_entry_ino64(ae))},
                                                  e->path);
      if (!first) disk_link = it->second;
    }
    if (const char* hard = archive_entry_hardlink(ae); hard != nullptr && !disk) {
      e->type = EntryType::kHardlink;
      e->link_target = Normalize(hard);
    } else if (!disk_link.empty()) {
      e->type = EntryType::kHardlink;
      e->link_target = disk_link;
    } else {
      switch (archive_entry_filetype(ae)) {
        case AE_IFREG:
          e->type = EntryType::kFile;
          e->size = static_cast<uint64_t>(archive_entry_size(ae));
          break;
        case AE_IFDIR:
          e->type = EntryType::kDirectory;
          break;
        case AE_IFLNK:
          e->type = EntryType::kSymlink;
          e->link_target = archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "";
          break;
        case AE_IFCHR:
        case AE_IFBLK:
          return Fail(e->path, "device nodes are not restored");
        case AE_IFIFO:
          return Fail(e->path, "FIFOs are not restored");
        case AE_IFSOCK:
          return Fail(e->path, "sockets are not restored");
        default:
          return Fail(e->path, "unknown file type");
      }
    }
    SB_RETURN_IF_ERROR(CheckEntry(*e));
    if (!disk || e->type == EntryType::kSymlink) seen_.emplace(e->path, e->type);
    if (e->type == EntryType::kSymlink) ++symlinks_;
    newest_mtime_ns_ = std::max(newest_mtime_ns_, e->mtime_ns);
    return true;
  }
}

Result<size_t> SourceReader::Read(char* buffer, size_t size) {
  la_ssize_t n = archive_read_data(a_, buffer, size);
  if (n < 0) {
    return Status::Invalid(
        fmt::format("backup source {}: {}", source_.path,
                    archive_error_string(a_) ? archive_error_string(a_) : "unreadable data"));
  }
  return static_cast<size_t>(n);
}

}  // namespace sb::restore
