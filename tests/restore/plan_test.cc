// The restore plan: each difference between source and target becomes the
// right action, and the totals add up; a target known by its directories'
// digests is rebuilt exactly from the directories read and the source.

#include "standby/restore/plan.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace sb::restore {
namespace {

using sync::ManifestEntry;
using sync::NodeType;

// The digest of a content named `label`: equal labels, equal contents.
sync::Digest Content(std::string_view label) {
  sync::Sha256 sha;
  sha.Update(label.data(), label.size());
  return sha.Finish();
}

ManifestEntry File(std::string path, uint64_t size, std::string_view content, uint32_t mode = 0644,
                   int64_t mtime = 100) {
  return {std::move(path), NodeType::kFile, mode, mtime, size, Content(content), ""};
}
ManifestEntry Dir(std::string path, uint32_t mode = 0755, int64_t mtime = 100) {
  return {std::move(path), NodeType::kDirectory, mode, mtime, 0, {}, ""};
}
ManifestEntry Link(std::string path, std::string target) {
  return {std::move(path), NodeType::kSymlink, 0777, 100, 0, {}, std::move(target)};
}

TEST_CASE("plan: each kind of difference gets its action", "[plan]") {
  const uint64_t big = 1 << 20;
  std::vector<ManifestEntry> source = {
      File("same.txt", 10, "h1"),
      File("touched.txt", 10, "h2", 0644, 200),  // newer time, same content
      File("chmod.txt", 10, "h3", 0600),         // other mode
      File("small-edit.txt", 10, "h4-new"),      // small: whole
      File("db/big.bin", big, "h5-new"),         // big: delta
      File("db/was-empty.bin", big, "h6"),       // nothing to delta against
      File("new.txt", 7, "h7"),
      File("second-name.txt", 7, "h7"),  // hard link to new.txt
      Dir("db"),
      Dir("newdir"),
      Link("current", "releases/2"),
      Link("same-link", "x"),
      Dir("was-a-file"),  // type change
  };
  std::vector<ManifestEntry> target = {
      File("same.txt", 10, "h1"),
      File("touched.txt", 10, "h2"),
      File("chmod.txt", 10, "h3"),
      File("small-edit.txt", 10, "h4-old"),
      File("db/big.bin", big, "h5-old"),
      File("db/was-empty.bin", 0, "empty"),
      Dir("db"),
      Link("current", "releases/1"),
      Link("same-link", "x"),
      File("was-a-file", 3, "h9"),
      File("stale.log", 5, "h10"),
  };
  Plan plan = MakePlan(source, target, {{"second-name.txt", "new.txt"}}, {});
  std::map<std::string, std::vector<Action>> by_path;
  for (const PlannedEntry& e : plan.entries) by_path[e.path].push_back(e.action);
  CHECK(by_path.count("same.txt") == 0);  // unchanged: counted only
  CHECK(by_path["touched.txt"] == std::vector{Action::kMetadata});
  CHECK(by_path["chmod.txt"] == std::vector{Action::kMetadata});
  CHECK(by_path["small-edit.txt"] == std::vector{Action::kWhole});
  CHECK(by_path["db/big.bin"] == std::vector{Action::kDelta});
  CHECK(by_path["db/was-empty.bin"] == std::vector{Action::kWhole});
  CHECK(by_path["new.txt"] == std::vector{Action::kNew});
  CHECK(by_path["second-name.txt"] == std::vector{Action::kHardlink});
  CHECK(by_path.count("db") == 0);  // unchanged: counted only
  CHECK(by_path["newdir"] == std::vector{Action::kDirectory});
  CHECK(by_path["current"] == std::vector{Action::kSymlink});
  CHECK(by_path.count("same-link") == 0);  // unchanged: counted only
  CHECK(by_path["was-a-file"] == (std::vector{Action::kDelete, Action::kDirectory}));
  CHECK(by_path["stale.log"] == std::vector{Action::kDelete});

  CHECK(plan.Totals(Action::kDelta).count == 1);
  CHECK(plan.Totals(Action::kDelta).bytes == big);
  CHECK(plan.Totals(Action::kWhole).bytes == 10 + big);
  CHECK(plan.Totals(Action::kDelete).count == 2);
  uint64_t counted = 0;
  for (const ActionTotals& t : plan.totals) counted += t.count;
  CHECK(plan.Totals(Action::kUnchanged).count == 3);
  CHECK(counted == plan.entries.size() + 3);
}

TEST_CASE("plan: an empty target takes everything and an empty source deletes it", "[plan]") {
  std::vector<ManifestEntry> tree = {Dir("a"), File("a/f", 5, "h"), Link("l", "a/f")};
  Plan fresh = MakePlan(tree, {}, {}, {});
  CHECK(fresh.Totals(Action::kDirectory).count == 1);
  CHECK(fresh.Totals(Action::kNew).count == 1);
  CHECK(fresh.Totals(Action::kSymlink).count == 1);
  Plan wipe = MakePlan({}, tree, {}, {});
  CHECK(wipe.Totals(Action::kDelete).count == 3);
  Plan same = MakePlan(tree, tree, {}, {});
  CHECK(same.Totals(Action::kUnchanged).count == 3);
}

TEST_CASE("plan: the whole-file threshold is an option", "[plan]") {
  std::vector<ManifestEntry> s = {File("f", 1000, "new")};
  std::vector<ManifestEntry> t = {File("f", 1000, "old")};
  CHECK(MakePlan(s, t, {}, {}).entries[0].action == Action::kWhole);
  PlanOptions o;
  o.whole_file_below = 100;
  CHECK(MakePlan(s, t, {}, o).entries[0].action == Action::kDelta);
  CHECK(ActionName(Action::kMetadata) == "metadata only");
}

// What a scan by directory does, agent and controller side: the
// directories to read, and the target rebuilt from them and the source.
struct ByDirectory {
  std::vector<std::string> read;  // the directories read, by path
  base::Result<std::vector<ManifestEntry>> target = std::vector<ManifestEntry>();
};
ByDirectory RebuildTarget(const std::vector<ManifestEntry>& source,
                          const std::vector<ManifestEntry>& target) {
  const std::vector<sync::DirectoryDigest> dirs = sync::DirectoryDigests(target);
  const std::vector<size_t> read = sync::DirectoriesToRead(sync::DirectoryDigests(source), dirs);
  ByDirectory out;
  for (size_t i : read) out.read.push_back(dirs[i].path);
  std::vector<ManifestEntry> children;
  for (const ManifestEntry& e : target) {
    if (std::binary_search(out.read.begin(), out.read.end(), sync::ParentOf(e.path))) {
      children.push_back(e);
    }
  }
  out.target = TargetFromDirectories(source, dirs, read, std::move(children));
  return out;
}

std::vector<ManifestEntry> Sorted(std::vector<ManifestEntry> v) {
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return v;
}

TEST_CASE("plan: directories' digests name what differs, one level deep", "[plan]") {
  const std::vector<ManifestEntry> source = {
      Dir("a"),     Dir("a/b"),        File("a/b/f", 1, "h1"), File("a/g", 2, "h2"),
      Dir("empty"), Link("top", "a/g")};
  const std::vector<sync::DirectoryDigest> digests = sync::DirectoryDigests(source);
  REQUIRE(digests.size() == 4);
  CHECK(digests[0].path == "");
  CHECK(digests[0].children == 3);  // a, empty, top
  CHECK(digests[1].path == "a");
  CHECK(digests[1].children == 2);
  CHECK(digests[2].path == "a/b");
  CHECK(digests[3].path == "empty");
  CHECK(digests[3].children == 0);
  // The same children, in any order, give the same digests.
  std::vector<ManifestEntry> shuffled(source.rbegin(), source.rend());
  CHECK(sync::DirectoryDigests(shuffled) == digests);

  struct Row {
    const char* what;
    std::vector<ManifestEntry> target;
    std::vector<std::string> read;
  } rows[] = {
      {"equal", source, {}},
      {"a file's content",
       {Dir("a"), Dir("a/b"), File("a/b/f", 1, "hX"), File("a/g", 2, "h2"), Dir("empty"),
        Link("top", "a/g")},
       {"a/b"}},
      // A directory's own line is in its parent's digest.
      {"a directory's time",
       {Dir("a"), Dir("a/b", 0755, 7), File("a/b/f", 1, "h1"), File("a/g", 2, "h2"), Dir("empty"),
        Link("top", "a/g")},
       {"a"}},
      {"a planted directory",
       {Dir("a"), Dir("a/b"), File("a/b/f", 1, "h1"), File("a/g", 2, "h2"), Dir("empty"),
        Dir("empty/x"), File("empty/x/y", 1, "h"), Link("top", "a/g")},
       {"empty", "empty/x"}},
      {"a deleted subtree",
       {Dir("a"), File("a/g", 2, "h2"), Dir("empty"), Link("top", "a/g")},
       {"a"}},
      {"an empty target", {}, {""}},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    ByDirectory got = RebuildTarget(source, r.target);
    CHECK(got.read == r.read);
    REQUIRE(got.target.ok());
    CHECK(*got.target == Sorted(r.target));
  }
}

TEST_CASE("plan: a target rebuilt from its directories is the target, for random changes",
          "[plan]") {
  std::mt19937 rng(20261202);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<ManifestEntry> source;
    std::vector<std::string> dirs = {""};
    for (int i = 0; i < 60; ++i) {
      const std::string& parent = dirs[pick(dirs.size())];
      const std::string path = (parent.empty() ? "" : parent + "/") + fmt::format("n{}", i);
      if (pick(3) == 0) {
        source.push_back(Dir(path));
        dirs.push_back(path);
      } else {
        source.push_back(File(path, i, fmt::format("h{}", i)));
      }
    }
    std::vector<ManifestEntry> target = source;
    for (size_t k = pick(4); k > 0; --k) {
      ManifestEntry& e = target[pick(target.size())];
      switch (pick(4)) {
        case 0:
          e.mtime_s += 1;
          break;
        case 1:
          e.mode ^= 1;
          break;
        case 2:
          if (e.type == NodeType::kFile) e.sha256 = Content(e.sha256.Hex() + "x");
          break;
        default: {
          // Gone, with whatever is below it.
          const std::string gone = e.path;
          std::erase_if(target, [&](const ManifestEntry& t) {
            return t.path == gone || t.path.starts_with(gone + "/");
          });
        }
      }
    }
    if (pick(2) == 0) target.push_back(File(fmt::format("planted{}", trial), 1, "p"));
    std::shuffle(target.begin(), target.end(), rng);
    // The source in path order (as a restore sorts it) or not.
    if (pick(2) == 0) source = Sorted(source);
    ByDirectory got = RebuildTarget(source, target);
    INFO("trial " << trial);
    REQUIRE(got.target.ok());
    CHECK(*got.target == Sorted(target));
    if (Sorted(target) == Sorted(source)) CHECK(got.read.empty());
  }
}

TEST_CASE("plan: entries read that are not what the digests announced are refused", "[plan]") {
  const std::vector<ManifestEntry> source = {Dir("a"), File("a/f", 1, "h1")};
  const std::vector<ManifestEntry> target = {Dir("a"), File("a/f", 1, "h2")};
  const std::vector<sync::DirectoryDigest> dirs = sync::DirectoryDigests(target);
  base::Result<std::vector<ManifestEntry>> none = TargetFromDirectories(source, dirs, {1}, {});
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message() ==
        "the agent's digests announced 1 entries in the 1 directories read, it sent 0");
  // Digests that claim a directory holds more than the source's copy of it.
  base::Result<std::vector<ManifestEntry>> short_source =
      TargetFromDirectories({Dir("a")}, dirs, {}, {});
  REQUIRE_FALSE(short_source.ok());
  CHECK(short_source.status().message() == "the agent's digests announced 2 entries, 1 are known");
}

}  // namespace
}  // namespace sb::restore
