// The manifest of a backup source (agent/sync/manifest.h), computed while
// reading it once: what the target must equal after a restore. Hard links
// become files with their target's content, as they are on disk.

#ifndef STANDBY_RESTORE_SOURCE_MANIFEST_H_
#define STANDBY_RESTORE_SOURCE_MANIFEST_H_

#include <map>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/manifest.h"
#include "standby/restore/source.h"

namespace sb::restore {

// Reads `reader` to its end. Errors are the reader's (bad entries, bad data).
// When `hardlinks` is given, each hard link's path maps to the path it names.
// For a directory source, a file whose inode, size, mtime and ctime match
// `cache` is not read again; `record` receives every file's hash and key.
base::Result<std::vector<sync::ManifestEntry>> ManifestOf(
    SourceReader& reader, std::map<std::string, std::string>* hardlinks = nullptr,
    const sync::HashCache* cache = nullptr, sync::HashCache* record = nullptr);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_SOURCE_MANIFEST_H_
