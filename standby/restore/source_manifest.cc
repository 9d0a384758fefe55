#include "standby/restore/source_manifest.h"

#include <map>

namespace sb::restore {

base::Result<std::vector<sync::ManifestEntry>> ManifestOf(
    SourceReader& reader, std::map<std::string, std::string>* hardlinks,
    const sync::HashCache* cache, sync::HashCache* record) {
  std::vector<sync::ManifestEntry> out;
  std::map<std::string, size_t, std::less<>> index;  // path -> position in out
  std::string buffer(256 * 1024, '\0');
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
      case EntryType::kHardlink: {
        // The source reader has checked that the target came earlier.
        m = out[index.at(e.link_target)];
        m.path = e.path;
        if (hardlinks != nullptr) (*hardlinks)[e.path] = e.link_target;
        break;
      }
      case EntryType::kFile: {
        m.type = sync::NodeType::kFile;
        const sync::CachedHash* cached =
            cache != nullptr && e.inode != 0 ? cache->Find(e.path) : nullptr;
        if (cached != nullptr && cached->Matches(e.inode, e.size, e.mtime_ns, e.ctime_ns)) {
          m.size = e.size;
          m.sha256 = cached->sha256;
          if (record != nullptr) record->Put(e.path, *cached);
          break;
        }
        sync::Sha256 sha;
        uint64_t total = 0;
        for (;;) {
          base::Result<size_t> n = reader.Read(buffer.data(), buffer.size());
          if (!n.ok()) return n.status();
          if (*n == 0) break;
          sha.Update(buffer.data(), *n);
          total += *n;
        }
        m.size = total;
        m.sha256 = sha.HexDigest();
        if (record != nullptr && e.inode != 0 && total == e.size) {
          record->Put(e.path, {e.inode, e.size, e.mtime_ns, e.ctime_ns, m.sha256});
        }
        break;
      }
    }
    index[m.path] = out.size();
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace sb::restore
