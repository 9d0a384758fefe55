// The agent's per-target hash cache: each file's SHA-256 as the last
// successful restore left it, keyed by what changes when the file does
// (inode, size, mtime and ctime, both to the nanosecond). A scan reuses a
// hash whose key still matches and hashes the rest; a file whose fresh hash
// differs from its cached one changed on the standby since that restore:
// drift. Only a commit writes its entries (a scan never does, so a look at a
// tampered target cannot make the tampering the new baseline), and a commit
// removes it before it changes anything, so a stale cache is never trusted.
//
// For a target, the cache is also the baseline drift is measured against:
// every entry the last restore left, directories and symlinks included,
// with mode and owners; and the rotation of re-reads (sync/reverify.h):
// for each file the pass at which its bytes were last read back from disk
// or written. A verifying scan updates only those passes, and only for
// files whose bytes it read back equal to the cached hash.
//
// Stored under the agent's state_dir in a compact binary form, read and
// written without a tree per entry and checked by a checksum (the format is
// in hash_cache.cc); a cache an older agent saved as CBOR still loads. The
// controller keeps the same kind of cache (files only) for each directory
// backup source. A value; one thread.

#ifndef AGENT_SYNC_HASH_CACHE_H_
#define AGENT_SYNC_HASH_CACHE_H_

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/manifest.h"

namespace sb::sync {

struct CachedHash {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  std::string sha256;
  // Not part of the key: what metadata drift compares, and the pass at
  // which the bytes were last read back or written (0: not since the
  // cache began to keep it).
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t verified = 0;

  static CachedHash Of(const struct stat& st, std::string sha256, uint64_t verified = 0);
  bool Matches(const struct stat& st) const;
  bool Matches(uint64_t inode, uint64_t size, int64_t mtime_ns, int64_t ctime_ns) const;
  bool operator==(const CachedHash&) const = default;
};

// A directory or symlink as the last restore left it.
struct CachedOther {
  NodeType type = NodeType::kDirectory;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string link_target;  // symlinks
  bool operator==(const CachedOther&) const = default;
};

// Where a target's rotation of re-reads stands (sync/reverify.h). Passes
// are counted per target: each verifying scan is one.
struct Rotation {
  uint64_t pass = 0;         // the last verifying scan's
  uint64_t cycle_start = 1;  // the first pass of the rotation under way
  // The last rotation that completed: its passes, and when it ended
  // (wall clock, ms; 0: none yet).
  uint64_t done_start = 0, done_end = 0;
  int64_t done_end_ms = 0;
  bool operator==(const Rotation&) const = default;
};

class HashCache {
 public:
  // The cache file for the target `root` under `state_dir`.
  static std::string PathFor(const std::string& state_dir, const std::string& root);

  // Loads `path` (or the CBOR cache an older agent left in its place). A
  // missing file is an empty, absent cache; an unreadable or malformed one
  // is an error naming the file and what is wrong (the caller logs it and
  // goes on without).
  static base::Result<HashCache> Load(const std::string& path);
  // Saves atomically to `path`, and removes an older agent's cache there.
  base::Status Save(const std::string& path) const;
  // Removes the cache at `path`, the older agent's too.
  static base::Status Remove(const std::string& path);

  // The file's bytes, and a cache from them (for Load, Save and tests).
  std::vector<uint8_t> Serialize() const;
  static base::Result<HashCache> Parse(std::string_view bytes);

  bool present() const { return present_; }
  // Loaded from the CBOR an older agent saved: worth saving again in this
  // form even when its entries did not change.
  bool older_form() const { return older_form_; }
  const CachedHash* Find(const std::string& path) const;
  CachedHash* FindMutable(const std::string& path);
  void Put(const std::string& path, CachedHash hash) { entries_[path] = std::move(hash); }
  void Erase(const std::string& path) { entries_.erase(path); }
  size_t size() const { return entries_.size(); }
  const std::map<std::string, CachedHash>& files() const { return entries_; }
  // The same entries (a cache that need not be saved again).
  bool SameEntries(const HashCache& other) const { return entries_ == other.entries_; }

  // Directories and symlinks: kept for a target, so that drift covers them.
  void PutOther(const std::string& path, CachedOther other) {
    others_[path] = std::move(other);
    full_baseline_ = true;
  }
  const std::map<std::string, CachedOther>& others() const { return others_; }
  // Whether the cache holds every entry of the target (directories and
  // symlinks too, with modes and owners), not only its files' hashes: a
  // cache written before it did cannot tell planted directories.
  bool full_baseline() const { return full_baseline_; }
  void set_full_baseline(bool full) { full_baseline_ = full; }

  Rotation& rotation() { return rotation_; }
  const Rotation& rotation() const { return rotation_; }

 private:
  static base::Result<HashCache> LoadLegacy(const std::string& bytes, const std::string& path);
  static base::Status RemoveFile(const std::string& path);

  bool present_ = false;
  bool older_form_ = false;
  bool full_baseline_ = false;
  std::map<std::string, CachedHash> entries_;
  std::map<std::string, CachedOther> others_;
  Rotation rotation_;
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_HASH_CACHE_H_
