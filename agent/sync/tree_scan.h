// Scanning a tree on disk into a manifest (manifest.h), as the agent does to
// learn what a restore target holds. The walk never follows a symlink (each
// directory is opened below the root with openat2's RESOLVE_NO_SYMLINKS),
// stays on the root's filesystem, keeps one directory open at a time, and is
// bounded in depth and entries. Special files
// (devices, FIFOs, sockets) are reported as errors naming them: a restore
// target should never hold one. One thread.

#ifndef AGENT_SYNC_TREE_SCAN_H_
#define AGENT_SYNC_TREE_SCAN_H_

#include <string>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/manifest.h"

namespace sb::sync {

class HashCache;

struct ScanOptions {
  bool hash_files = true;  // compute each file's SHA-256
  // With hash_files: hashes reused when their key matches.
  const HashCache* cache = nullptr;
  // Receives every file's hash, key, mode and owners, and every directory
  // and symlink: the baseline drift is measured against. A file hashed by
  // this scan is recorded as read at `pass`; a reused hash keeps its pass.
  HashCache* record = nullptr;
  uint64_t pass = 0;
  std::vector<size_t>* reused = nullptr;  // indexes of the files whose hash was reused
  // With cache: marks the files of the cache whose key matched (by index,
  // sized to it), and `record` then gets only the other files: a scan of a
  // tree that barely changed does not copy the cache (drift.h's FindDrift
  // takes both).
  std::vector<bool>* unchanged = nullptr;
  uint64_t* hashed_bytes = nullptr;  // counts the bytes actually read
  // How many entries the tree most likely has, to size the result once (a
  // vector that doubles past its mark holds twice the room, and both copies
  // while it moves). 0: as many as `cache` holds.
  size_t expected_entries = 0;
  int max_depth = 2048;  // as deep as a path of 4,095 bytes can go
  size_t max_entries = 10'000'000;
};

// Scans everything below `root` (not `root` itself), except a staging
// directory (kStagingDirName) at its top. A missing root is an
// empty tree; a root that is a symlink or not a directory is an error.
base::Result<std::vector<ManifestEntry>> ScanTree(const std::string& root,
                                                  const ScanOptions& options = {});

}  // namespace sb::sync

#endif  // AGENT_SYNC_TREE_SCAN_H_
