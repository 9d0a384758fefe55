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
#include <utility>
#include <vector>

#include "agent/base/file.h"
#include "agent/base/status.h"
#include "agent/sync/manifest.h"
#include "agent/sync/record_bytes.h"

namespace sb::sync {

struct CachedHash {
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  Digest sha256;
  // Not part of the key: what metadata drift compares, and the pass at
  // which the bytes were last read back or written (0: not since the
  // cache began to keep it).
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t verified = 0;

  static CachedHash Of(const struct stat& st, const Digest& sha256, uint64_t verified = 0);
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
  // The same bytes handed to `write` in pieces as they are made (Save's
  // way: a large cache is not held twice); stops at the first error.
  base::Status SerializeTo(const base::PieceWriter& write) const;
  static base::Result<HashCache> Parse(std::string_view bytes);

  bool present() const { return present_; }
  // Loaded from the CBOR an older agent saved: worth saving again in this
  // form even when its entries did not change.
  bool older_form() const { return older_form_; }
  // The file at `path`, or null. Pointers last until the next Put or Erase.
  const CachedHash* Find(std::string_view path) const;
  // The same, with its index (IndexOf) into *index when found.
  const CachedHash* Find(std::string_view path, size_t* index) const;
  CachedHash* FindMutable(std::string_view path);
  void Put(std::string_view path, CachedHash hash);
  void Erase(std::string_view path);
  size_t size() const { return files_.size(); }
  // The index of `path` among the files in path order (as files() goes),
  // or size(); and the file at an index. Valid until the next Put or Erase.
  size_t IndexOf(std::string_view path) const;
  const CachedHash& at(size_t index) const { return files_[index].hash; }
  // Keeps the files whose index `keep` marks and drops the others: the
  // record of a walk that reused these, made in the cache's place rather
  // than beside it.
  void KeepOnly(const std::vector<bool>& keep);
  // Puts `other`'s files (each replacing this one's of its path), and takes
  // its directories, symlinks and full_baseline in place of these; `other`
  // is left empty. With KeepOnly, a scan's
  // partial record (ScanOptions::unchanged) made whole in the baseline's
  // place.
  void Absorb(HashCache&& other);
  // Room for as many files and path bytes as `other` holds: a scan's
  // record, sized like the baseline it will most likely equal, grows
  // without copies.
  void ReserveLike(const HashCache& other) {
    files_.reserve(other.files_.size());
    paths_.reserve(other.paths_.size());
  }

  // The files in path order, as (path, hash) pairs.
  class Files {
   public:
    using value_type = std::pair<std::string_view, const CachedHash&>;
    class Iterator {
     public:
      Iterator(const HashCache* cache, size_t i) : cache_(cache), i_(i) {}
      value_type operator*() const { return cache_->At(i_); }
      Iterator& operator++() {
        ++i_;
        return *this;
      }
      bool operator==(const Iterator& other) const { return i_ == other.i_; }

     private:
      const HashCache* cache_;
      size_t i_;
    };
    explicit Files(const HashCache* cache) : cache_(cache) {}
    Iterator begin() const { return {cache_, 0}; }
    Iterator end() const { return {cache_, cache_->files_.size()}; }
    size_t size() const { return cache_->files_.size(); }

   private:
    const HashCache* cache_;
  };
  Files files() const {
    Sort();
    return Files(this);
  }
  // The same files (a cache that need not be saved again).
  bool SameEntries(const HashCache& other) const;

  // Directories and symlinks: kept for a target, so that drift covers them.
  void PutOther(const std::string& path, CachedOther other) {
    others_[path] = std::move(other);
    full_baseline_ = true;
  }
  const std::map<std::string, CachedOther, std::less<>>& others() const { return others_; }
  // Whether the cache holds every entry of the target (directories and
  // symlinks too, with modes and owners), not only its files' hashes: a
  // cache written before it did cannot tell planted directories.
  bool full_baseline() const { return full_baseline_; }
  void set_full_baseline(bool full) { full_baseline_ = full; }

  Rotation& rotation() { return rotation_; }
  const Rotation& rotation() const { return rotation_; }

 private:
  // A file: its path is paths_[path_at, path_at + path_size).
  struct Slot {
    uint64_t path_at = 0;
    uint32_t path_size = 0;
    CachedHash hash;
  };

  static base::Result<HashCache> LoadLegacy(const std::string& bytes, const std::string& path);
  static base::Status RemoveFile(const std::string& path);
  std::string_view PathOf(const Slot& slot) const {
    return {paths_.data() + slot.path_at, slot.path_size};
  }
  Files::value_type At(size_t i) const { return {PathOf(files_[i]), files_[i].hash}; }
  // Puts the files in path order, the last Put of a path winning.
  void Sort() const;

  bool present_ = false;
  bool older_form_ = false;
  bool full_baseline_ = false;
  // Files in path order, unless a Put came out of order since the last
  // Sort; their paths, one after another, in paths_ (no allocation per
  // file). Sorted lazily: a value on one thread.
  mutable std::vector<Slot> files_;
  mutable bool sorted_ = true;
  std::string paths_;
  std::map<std::string, CachedOther, std::less<>> others_;
  Rotation rotation_;
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_HASH_CACHE_H_
