// The manifest of a backup source (agent/sync/manifest.h): what the target
// must equal after a restore. Hard links become files with their target's
// content, as they are on disk.
//
// It is read in two passes, so that what the entries declare can be checked
// before any data is read: an archive whose entries claim 50 GiB (a tar
// bomb, a sparse file) is refused for want of space in the time it takes to
// read its headers, not after hashing all of it.
//
//   ListSource   every entry, without its data: paths, types, sizes, and the
//                hashes a directory source's hash cache still vouches for
//   HashListed   the data of the files the listing could not vouch for:
//                opened by path in a directory source, a second pass through
//                an archive, each checked to be the entry the listing saw
//
// One thread.

#ifndef STANDBY_RESTORE_SOURCE_MANIFEST_H_
#define STANDBY_RESTORE_SOURCE_MANIFEST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/manifest.h"
#include "standby/restore/source.h"

namespace sb::restore {

struct SourceListing {
  std::vector<sync::ManifestEntry> entries;  // in the source's order
  // Hard links: path -> the earlier path it names.
  std::map<std::string, std::string> hardlinks;
  // Files whose content is still to be read (their sha256 is empty), with
  // what a directory source's hash cache keys on.
  struct Unhashed {
    size_t index;  // into entries
    uint64_t inode = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
  };
  std::vector<Unhashed> unhashed;
  int64_t newest_mtime_ns = 0;  // the newest entry (the source's age, with the archive's time)
};

// Reads every entry of `reader` to its end without reading file data. For a
// directory source, a file whose inode, size, mtime and ctime match `cache`
// takes its hash from there, and its index in `cache` is marked in
// `reused` (sized to the cache). Errors are the reader's (bad entries).
base::Result<SourceListing> ListSource(SourceReader& reader, const sync::HashCache* cache = nullptr,
                                       std::vector<bool>* reused = nullptr);

// Fails unless `entries` (read from the directory `source`) name each path
// once: a walk does, unless the tree changed under it (a name renamed away
// and back while its directory was read). ListSource checks; here for tests.
base::Status CheckNamedOnce(const ResolvedSource& source,
                            const std::vector<sync::ManifestEntry>& entries);

// Reads the data of `listing`'s unhashed files from `source` and fills in
// their hashes (and those of their hard links); `record` gets each one's
// hash and key. A file that is no longer what the listing saw (another
// size, another inode, another entry in its place) fails it: the source
// changed while it was read.
// `progress` (if given) hears the bytes read so far as it goes.
base::Status HashListed(const ResolvedSource& source, SourceListing* listing,
                        sync::HashCache* record = nullptr,
                        const std::function<void(uint64_t)>& progress = {});

// Both passes: the whole manifest of `source`.
base::Result<std::vector<sync::ManifestEntry>> ManifestOf(const ResolvedSource& source);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_SOURCE_MANIFEST_H_
