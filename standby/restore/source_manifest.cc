#include "standby/restore/source_manifest.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/sync/beneath.h"

namespace sb::restore {
namespace {

using base::Status;

int64_t Ns(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

Status Changed(const ResolvedSource& source, std::string_view path, std::string_view how) {
  return Status::FailedPrecondition(
      fmt::format("backup source {} changed while it was read: \"{}\" {}", source.path, path, how));
}

}  // namespace

// Checked once at the end, in order, rather than with a map of every path
// as the walk goes (an archive's entries are, source.h).
Status CheckNamedOnce(const ResolvedSource& source,
                      const std::vector<sync::ManifestEntry>& entries) {
  std::vector<std::string_view> paths;
  paths.reserve(entries.size());
  for (const sync::ManifestEntry& m : entries) paths.emplace_back(m.path);
  std::sort(paths.begin(), paths.end());
  auto twice = std::adjacent_find(paths.begin(), paths.end());
  return twice == paths.end() ? Status::Ok() : Changed(source, *twice, "was listed twice");
}

namespace {

// A directory source: each file opened by path below the source's root,
// without following a symlink, and checked to be the file the listing saw.
Status HashFromDirectory(const ResolvedSource& source, SourceListing* listing,
                         sync::HashCache* record, const std::function<void(uint64_t)>& progress) {
  uint64_t done = 0;
  base::UniqueFd root(::open(source.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Status::FromErrno(fmt::format("backup source {}", source.path), errno);
  for (const SourceListing::Unhashed& u : listing->unhashed) {
    sync::ManifestEntry& m = listing->entries[u.index];
    base::Result<base::UniqueFd> fd = sync::OpenBeneath(root.get(), m.path, O_RDONLY | O_NOFOLLOW);
    if (!fd.ok()) return Changed(source, m.path, "could not be opened again");
    struct stat st;
    if (::fstat(fd->get(), &st) != 0 || static_cast<uint64_t>(st.st_ino) != u.inode ||
        static_cast<uint64_t>(st.st_size) != m.size || Ns(st.st_mtim) != u.mtime_ns ||
        Ns(st.st_ctim) != u.ctime_ns) {
      return Changed(source, m.path, "is not the file it was");
    }
    const std::string where = fmt::format("backup source {}: {}", source.path, m.path);
    sync::Sha256 sha;
    uint64_t total = 0;
    SB_RETURN_IF_ERROR(base::ReadFd(fd->get(), where, [&](std::string_view piece) {
      sha.Update(piece.data(), piece.size());
      total += piece.size();
      if (progress) progress(done += piece.size());
      return Status::Ok();
    }));
    if (total != m.size) return Changed(source, m.path, "changed size");
    m.sha256 = sha.Finish();
    if (record != nullptr) record->Put(m.path, {u.inode, m.size, u.mtime_ns, u.ctime_ns, m.sha256});
  }
  return Status::Ok();
}

// An archive: read again, entry by entry, each the one the listing saw.
Status HashFromArchive(const ResolvedSource& source, SourceListing* listing,
                       const std::function<void(uint64_t)>& progress) {
  uint64_t done = 0;
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(source);
  if (!reader.ok()) return reader.status();
  std::vector<bool> wanted(listing->entries.size(), false);
  for (const SourceListing::Unhashed& u : listing->unhashed) wanted[u.index] = true;
  std::string buffer(size_t{256} * 1024, '\0');
  SourceEntry e;
  for (size_t i = 0;; ++i) {
    base::Result<bool> more = (*reader)->Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) {
      if (i != listing->entries.size())
        return Changed(source, listing->entries[i].path, "vanished");
      return Status::Ok();
    }
    if (i >= listing->entries.size() || listing->entries[i].path != e.path) {
      return Changed(source, e.path, "is not the entry it was");
    }
    if (!wanted[i]) continue;
    sync::ManifestEntry& m = listing->entries[i];
    if (e.type != EntryType::kFile || e.size != m.size) {
      return Changed(source, e.path, "is not the file it was");
    }
    sync::Sha256 sha;
    uint64_t total = 0;
    for (;;) {
      base::Result<size_t> n = (*reader)->Read(buffer.data(), buffer.size());
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      sha.Update(buffer.data(), *n);
      total += *n;
      if (progress) progress(done += *n);
    }
    if (total != m.size) return Changed(source, m.path, "changed size");
    m.sha256 = sha.Finish();
  }
}

// Each hard link of `listing` takes its file's type, mode, time, size and,
// once known, hash. A link names an earlier
// entry, so a link to a link finds that one filled in already. Only with
// links is an index of the paths built.
void FillHardlinks(SourceListing* listing) {
  if (listing->hardlinks.empty()) return;
  std::unordered_map<std::string_view, size_t> files;
  for (size_t i = 0; i < listing->entries.size(); ++i) {
    const sync::ManifestEntry& m = listing->entries[i];
    if (m.type == sync::NodeType::kFile) files.emplace(m.path, i);
  }
  for (sync::ManifestEntry& m : listing->entries) {
    auto link = listing->hardlinks.find(m.path);
    if (link == listing->hardlinks.end()) continue;
    const sync::ManifestEntry& file = listing->entries[files.at(link->second)];
    m.type = file.type;
    m.mode = file.mode;
    m.mtime_s = file.mtime_s;
    m.size = file.size;
    m.sha256 = file.sha256;
  }
}

}  // namespace

base::Result<SourceListing> ListSource(SourceReader& reader, const sync::HashCache* cache,
                                       std::vector<bool>* reused) {
  SourceListing out;
  // Most likely about the source of the last restore: its files, and a
  // directory for every 40 or so (a guess; the vector grows past it).
  if (cache != nullptr) {
    out.entries.reserve(cache->size() + cache->size() / 32);
    if (reused != nullptr) reused->assign(cache->size(), false);
  }
  SourceEntry e;
  for (;;) {
    base::Result<bool> more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    sync::ManifestEntry m;
    m.path = e.path;
    m.mode = e.mode;
    m.mtime_s = sync::SecondsOf(e.mtime_ns);  // as the target's filesystem keeps it
    switch (e.type) {
      case EntryType::kDirectory:
        m.type = sync::NodeType::kDirectory;
        break;
      case EntryType::kSymlink:
        m.type = sync::NodeType::kSymlink;
        m.link_target = e.link_target;
        break;
      case EntryType::kHardlink:
        // The source reader has checked that the target is an earlier file.
        m.type = sync::NodeType::kFile;
        out.hardlinks[e.path] = e.link_target;  // filled in at the end
        break;
      case EntryType::kFile: {
        m.type = sync::NodeType::kFile;
        m.size = e.size;
        size_t i = 0;
        const sync::CachedHash* cached =
            cache != nullptr && e.inode != 0 ? cache->Find(e.path, &i) : nullptr;
        if (cached != nullptr && cached->Matches(e.inode, e.size, e.mtime_ns, e.ctime_ns)) {
          m.sha256 = cached->sha256;
          if (reused != nullptr) (*reused)[i] = true;
        } else {
          out.unhashed.push_back({out.entries.size(), e.inode, e.mtime_ns, e.ctime_ns});
        }
        break;
      }
    }
    out.entries.push_back(std::move(m));
  }
  if (reader.source().kind == ResolvedSource::Kind::kDirectory) {
    SB_RETURN_IF_ERROR(CheckNamedOnce(reader.source(), out.entries));
  }
  FillHardlinks(&out);
  out.newest_mtime_ns = reader.newest_mtime_ns();
  return out;
}

Status HashListed(const ResolvedSource& source, SourceListing* listing, sync::HashCache* record,
                  const std::function<void(uint64_t)>& progress) {
  if (!listing->unhashed.empty()) {
    SB_RETURN_IF_ERROR(source.kind == ResolvedSource::Kind::kDirectory
                           ? HashFromDirectory(source, listing, record, progress)
                           : HashFromArchive(source, listing, progress));
  }
  // A hard link has its file's content.
  FillHardlinks(listing);
  return Status::Ok();
}

base::Result<std::vector<sync::ManifestEntry>> ManifestOf(const ResolvedSource& source) {
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(source);
  if (!reader.ok()) return reader.status();
  base::Result<SourceListing> listing = ListSource(**reader);
  if (!listing.ok()) return listing.status();
  SB_RETURN_IF_ERROR(HashListed(source, &*listing));
  return std::move(listing->entries);
}

}  // namespace sb::restore
