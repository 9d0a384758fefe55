// The agent's per-target hash cache: each file's SHA-256 as the last
// successful restore left it, keyed by what changes when the file does
// (inode, size, mtime and ctime, both to the nanosecond). A scan reuses a
// hash whose key still matches and hashes the rest; a file whose fresh hash
// differs from its cached one changed on the standby since that restore:
// drift. Only a commit writes the cache (a scan never does, so a look at a
// tampered target cannot make the tampering the new baseline), and a commit
// removes it before it changes anything, so a stale cache is never trusted.
// Stored as CBOR under the agent's state_dir. The controller keeps the same
// kind of cache for each directory backup source. A value; one thread.

#ifndef AGENT_SYNC_HASH_CACHE_H_
#define AGENT_SYNC_HASH_CACHE_H_

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "agent/base/status.h"

namespace sb::sync {

struct CachedHash {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  std::string sha256;

  static CachedHash Of(const struct stat& st, std::string sha256);
  bool Matches(const struct stat& st) const;
  bool Matches(uint64_t inode, uint64_t size, int64_t mtime_ns, int64_t ctime_ns) const;
  bool operator==(const CachedHash&) const = default;
};

class HashCache {
 public:
  // The cache file for the target `root` under `state_dir`.
  static std::string PathFor(const std::string& state_dir, const std::string& root);

  // Loads `path`. A missing file is an empty, absent cache; an unreadable or
  // malformed one is an error (the caller logs it and goes on without).
  static base::Result<HashCache> Load(const std::string& path);
  base::Status Save(const std::string& path) const;
  static base::Status Remove(const std::string& path);

  bool present() const { return present_; }
  const CachedHash* Find(const std::string& path) const;
  void Put(const std::string& path, CachedHash hash) { entries_[path] = std::move(hash); }
  size_t size() const { return entries_.size(); }
  std::set<std::string> Hashes() const;  // every distinct sha256
  // The same entries (a cache that need not be saved again).
  bool SameEntries(const HashCache& other) const { return entries_ == other.entries_; }

 private:
  bool present_ = false;
  std::map<std::string, CachedHash> entries_;
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_HASH_CACHE_H_
