#include "tests/support/restore_rig.h"

#include "tests/support/backup_tree.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/tree_compare.h"

namespace sb::testing {

RestoreRig::RestoreRig(const std::string& target_dir)
    : target(target_dir.empty() ? dir.Sub("target") : target_dir),
      agent(pki, agent::Role::kStandby, std::chrono::seconds(30), {target}) {}

std::string RestoreRig::Config(const std::string& source) const {
  return WriteRestoreConfig(dir, pki, agent.port(), source, target, mapping_extra);
}

base::ProcessResult RestoreRig::Restore(const std::string& source, std::vector<std::string> extra) {
  std::vector<std::string> args = {"--config", Config(source), "restore", "--standby",
                                   "web1-standby"};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunStandbyctl(args);
}

void RestoreRig::SeedOldTree() {
  MakeOldTree(dir);
  RunOrFail({"rsync", "-aH", dir.Sub("old") + "/", target + "/"});
}

std::vector<std::string> RestoreRig::Snapshot() const {
  return DescribeTree(target, TreeOptions{.root = true});
}

}  // namespace sb::testing
