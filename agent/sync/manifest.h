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
#include <string_view>
#include <vector>

#include "agent/sync/record_bytes.h"

namespace sb::sync {

enum class NodeType : char { kFile = 'f', kDirectory = 'd', kSymlink = 'l' };

struct ManifestEntry {
  std::string path;  // relative, normalized
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;  // permission bits (07777)
  int64_t mtime_s = 0;
  uint64_t size = 0;        // files
  Digest sha256;            // files: the content's (none: not hashed yet)
  std::string link_target;  // symlinks

  bool operator==(const ManifestEntry&) const = default;
};

// The whole seconds of a time in nanoseconds since the epoch, rounded down
// as a file's st_mtim.tv_sec holds them (-1.5 s is -2, not -1).
inline int64_t SecondsOf(int64_t ns) {
  return ns / 1'000'000'000 - (ns % 1'000'000'000 < 0 ? 1 : 0);
}

// Path order, the order of a manifest's digest.
inline bool ByPath(const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; }

// Sorts `entries` by path, unless they are already (checking is linear).
void SortByPath(std::vector<ManifestEntry>& entries);

// The entry of `path` in `entries` (sorted by path), or null.
const ManifestEntry* FindByPath(const std::vector<ManifestEntry>& entries, std::string_view path);

// One canonical line: type, mode, mtime, size, hash or target, path.
std::string ManifestLine(const ManifestEntry& entry);

// The digest of a whole tree: hex SHA-256 over its lines sorted by path.
// Sorts `entries` in place.
std::string ManifestDigest(std::vector<ManifestEntry>& entries);

// The directory `path` is in: "" (the root) for a top-level name.
std::string_view ParentOf(std::string_view path);

// A directory's digest: hex SHA-256 over the ManifestLines of its children
// (the entries directly in it) in path order. Where two trees have a
// directory of equal digests, its children are equal in everything the
// manifest holds, so a restore need not send them (docs/restore.md).
struct DirectoryDigest {
  std::string path;  // "" for the root
  uint64_t children = 0;
  std::string sha256;
  bool operator==(const DirectoryDigest&) const = default;
};

// The entries of a manifest grouped by the directory they are in.
struct DirectoryGroups {
  // One per directory, the root's first, then in path order.
  std::vector<DirectoryDigest> dirs;
  // Indices into the entries: dirs[i]'s children, in path order, are
  // order[first[i]] and the dirs[i].children after it.
  std::vector<size_t> order;
  std::vector<size_t> first;
};

// Groups `entries` (in any order; linear when sorted by path) and digests
// each directory, one without children too. An entry whose directory is
// not among them is in no group.
DirectoryGroups GroupByDirectory(const std::vector<ManifestEntry>& entries);

// GroupByDirectory's digests alone.
std::vector<DirectoryDigest> DirectoryDigests(const std::vector<ManifestEntry>& entries);

// Of `target`'s directories, those whose children must be read to compare
// them with `source`'s: where the digests differ or the source has no such
// directory. Both in path order, as DirectoryDigests returns them; the
// result is indices into `target`, ascending.
std::vector<size_t> DirectoriesToRead(const std::vector<DirectoryDigest>& source,
                                      const std::vector<DirectoryDigest>& target);

// Incremental SHA-256, hex output.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t size);
  Digest Finish();  // finishes; call once
  std::string HexDigest() { return Finish().Hex(); }

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_MANIFEST_H_
