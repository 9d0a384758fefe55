// Drift found by comparing two hash caches, the baseline and a scan's
// record: every kind, type changes both ways, and a files-only baseline.

#include "agent/sync/drift.h"

#include <catch2/catch.hpp>

namespace sb::sync {
namespace {

// `content` stands for the file's bytes: equal letters, equal digests.
CachedHash File(char content, uint64_t size, uint32_t mode = 0644, int64_t mtime_s = 1000,
                uint32_t uid = 0) {
  CachedHash h;
  h.inode = 1;
  h.size = size;
  h.mtime_ns = mtime_s * 1'000'000'000;
  h.ctime_ns = h.mtime_ns;
  h.sha256 = Digest::FromBytes(std::string(kDigestBytes, content));
  h.mode = mode;
  h.uid = uid;
  return h;
}

CachedOther Dir(uint32_t mode = 0755) { return {NodeType::kDirectory, mode, 0, 0, ""}; }
CachedOther Link(std::string target) { return {NodeType::kSymlink, 0777, 0, 0, std::move(target)}; }

TEST_CASE("drift: every kind, and type changes both ways", "[drift]") {
  HashCache before, now;
  // Unchanged.
  before.Put("same", File('s', 1));
  now.Put("same", File('s', 1));
  before.PutOther("d", Dir());
  now.PutOther("d", Dir());
  // Content.
  before.Put("d/edited", File('a', 2048));
  now.Put("d/edited", File('b', 2048));
  before.Put("grown", File('a', 1));
  now.Put("grown", File('b', 2048));
  // Read back other under the same stat.
  before.Put("rotten", File('r', 1));
  now.Put("rotten", File('r', 1));
  // Metadata only.
  before.Put("meta", File('m', 1, 0644, 1000, 0));
  now.Put("meta", File('m', 1, 0600, 2000, 7));
  before.PutOther("link", Link("a"));
  now.PutOther("link", Link("/etc/passwd"));
  before.PutOther("mode-dir", Dir(0755));
  now.PutOther("mode-dir", Dir(0777));
  // Gone.
  before.Put("gone", File('g', 5));
  before.PutOther("gone-dir", Dir());
  // Planted.
  now.Put("planted", File('p', 3));
  now.PutOther("planted-dir", Dir());
  now.PutOther("planted-link", Link("/tmp"));
  // Types changed.
  before.Put("was-file", File('f', 1));
  now.PutOther("was-file", Dir());
  before.PutOther("was-dir", Dir());
  now.Put("was-dir", File('f', 1));
  before.PutOther("was-link", Link("x"));
  now.PutOther("was-link", Dir());

  const std::vector<Drift> expected = {
      {DriftKind::kModified, "d/edited", "content changed (2.0 KiB)"},
      {DriftKind::kDeleted, "gone", "file, 5 B"},
      {DriftKind::kDeleted, "gone-dir", "directory"},
      {DriftKind::kModified, "grown", "content changed, 1 B -> 2.0 KiB"},
      {DriftKind::kMetadata, "link", "target a -> /etc/passwd"},
      {DriftKind::kMetadata, "meta",
       "mode 0644 -> 0600, owner 0:0 -> 7:0, mtime 1970-01-01T00:16:40Z -> 1970-01-01T00:33:20Z"},
      {DriftKind::kMetadata, "mode-dir", "mode 0755 -> 0777"},
      {DriftKind::kPlanted, "planted", "file, 3 B"},
      {DriftKind::kPlanted, "planted-dir", "directory"},
      {DriftKind::kPlanted, "planted-link", "symlink -> /tmp"},
      {DriftKind::kCorrupt, "rotten",
       "read back with other bytes under the same inode, size and times"},
      {DriftKind::kModified, "was-dir", "was a directory, now a file"},
      {DriftKind::kModified, "was-file", "was a file, now a directory"},
      {DriftKind::kModified, "was-link", "was a symlink, now a directory"},
  };
  CHECK(FindDrift(before, now, {"rotten"}) == expected);
  CHECK(FindDrift(before, before, {}).empty());

  // The same from a record that leaves out the files a scan found
  // unchanged, marked by their index in the baseline instead. A file
  // neither marked nor recorded is gone.
  HashCache changed;
  changed.set_full_baseline(true);
  for (const auto& [path, hash] : now.files()) {
    if (path != "same" && path != "rotten") changed.Put(path, hash);
  }
  for (const auto& [path, other] : now.others()) changed.PutOther(path, other);
  std::vector<bool> unchanged(before.size());
  unchanged[before.IndexOf("same")] = true;
  unchanged[before.IndexOf("rotten")] = true;
  CHECK(FindDrift(before, changed, {"rotten"}, &unchanged) == expected);
  unchanged[before.IndexOf("same")] = false;
  std::vector<Drift> same_gone = expected;
  same_gone.insert(same_gone.begin() + 11, {DriftKind::kDeleted, "same", "file, 1 B"});
  CHECK(FindDrift(before, changed, {"rotten"}, &unchanged) == same_gone);
  CHECK(CountDrift(expected) == DriftCounts{5, 1, 2, 3, 3});

  // A baseline of files only (an older cache): files, their content and
  // mtime; nothing of directories, symlinks, modes or owners.
  before.set_full_baseline(false);
  const std::vector<Drift> files_only = {
      {DriftKind::kModified, "d/edited", "content changed (2.0 KiB)"},
      {DriftKind::kDeleted, "gone", "file, 5 B"},
      {DriftKind::kModified, "grown", "content changed, 1 B -> 2.0 KiB"},
      {DriftKind::kMetadata, "meta", "mtime 1970-01-01T00:16:40Z -> 1970-01-01T00:33:20Z"},
      {DriftKind::kPlanted, "planted", "file, 3 B"},
      {DriftKind::kPlanted, "was-dir", "file, 1 B"},
      {DriftKind::kDeleted, "was-file", "file, 1 B"},
  };
  CHECK(FindDrift(before, now, {}) == files_only);
}

}  // namespace
}  // namespace sb::sync
