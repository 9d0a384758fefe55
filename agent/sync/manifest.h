// A manifest: what a tree holds, entry by entry, in a canonical form both
// sides of a restore can compute, the controller from a backup source and
// the agent from the target on disk. Its digest, a SHA-256 over the sorted
// entries, is equal on both sides exactly when the trees are equal in what
// a restore promises: paths, types, permission bits, modification times to
// the second (tar keeps no more), sizes, file contents and symlink targets.
// Owners are not in it. Values and pure functions; thread-safe.

#ifndef AGENT_SYNC_MANIFEST_H_
#define AGENT_SYNC_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

namespace sb::sync {

enum class NodeType : char { kFile = 'f', kDirectory = 'd', kSymlink = 'l' };

struct ManifestEntry {
  std::string path;  // relative, normalized
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  int64_t mtime_s = 0;
  uint64_t size = 0;        // files
  std::string sha256;       // files: hex digest of the content
  std::string link_target;  // symlinks

  bool operator==(const ManifestEntry&) const = default;
};

// The whole seconds of a time in nanoseconds since the epoch, rounded down
// as a file's st_mtim.tv_sec holds them (-1.5 s is -2, not -1).
inline int64_t SecondsOf(int64_t ns) {
  return ns / 1'000'000'000 - (ns % 1'000'000'000 < 0 ? 1 : 0);
}

// One canonical line: type, mode, mtime, size, hash or target, path.
std::string ManifestLine(const ManifestEntry& entry);

// The digest of a whole tree: hex SHA-256 over its lines sorted by path.
// Sorts `entries` in place.
std::string ManifestDigest(std::vector<ManifestEntry>& entries);

// Incremental SHA-256, hex output.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t size);
  std::string HexDigest();  // finishes; call once

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_MANIFEST_H_
