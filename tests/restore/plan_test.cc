// The restore plan: each difference between source and target becomes the
// right action, and the totals add up.

#include "standby/restore/plan.h"

#include <catch2/catch.hpp>

namespace sb::restore {
namespace {

using sync::ManifestEntry;
using sync::NodeType;

ManifestEntry File(std::string path, uint64_t size, std::string hash, uint32_t mode = 0644,
                   int64_t mtime = 100) {
  return {std::move(path), NodeType::kFile, mode, mtime, size, std::move(hash), ""};
}
ManifestEntry Dir(std::string path, uint32_t mode = 0755, int64_t mtime = 100) {
  return {std::move(path), NodeType::kDirectory, mode, mtime, 0, "", ""};
}
ManifestEntry Link(std::string path, std::string target) {
  return {std::move(path), NodeType::kSymlink, 0777, 100, 0, "", std::move(target)};
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
  CHECK(by_path["same.txt"] == std::vector{Action::kUnchanged});
  CHECK(by_path["touched.txt"] == std::vector{Action::kMetadata});
  CHECK(by_path["chmod.txt"] == std::vector{Action::kMetadata});
  CHECK(by_path["small-edit.txt"] == std::vector{Action::kWhole});
  CHECK(by_path["db/big.bin"] == std::vector{Action::kDelta});
  CHECK(by_path["db/was-empty.bin"] == std::vector{Action::kWhole});
  CHECK(by_path["new.txt"] == std::vector{Action::kNew});
  CHECK(by_path["second-name.txt"] == std::vector{Action::kHardlink});
  CHECK(by_path["db"] == std::vector{Action::kUnchanged});
  CHECK(by_path["newdir"] == std::vector{Action::kDirectory});
  CHECK(by_path["current"] == std::vector{Action::kSymlink});
  CHECK(by_path["same-link"] == std::vector{Action::kUnchanged});
  CHECK(by_path["was-a-file"] == (std::vector{Action::kDelete, Action::kDirectory}));
  CHECK(by_path["stale.log"] == std::vector{Action::kDelete});

  CHECK(plan.Totals(Action::kDelta).count == 1);
  CHECK(plan.Totals(Action::kDelta).bytes == big);
  CHECK(plan.Totals(Action::kWhole).bytes == 10 + big);
  CHECK(plan.Totals(Action::kDelete).count == 2);
  uint64_t counted = 0;
  for (const ActionTotals& t : plan.totals) counted += t.count;
  CHECK(counted == plan.entries.size());
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

}  // namespace
}  // namespace sb::restore
