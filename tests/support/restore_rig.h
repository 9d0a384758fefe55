// Test support: a standby agent (in process) whose data root is a restore
// target, and standbyctl's config for one mapping into it; what the restore
// tests drive with the real standbyctl binary or RunRestore.

#ifndef TESTS_SUPPORT_RESTORE_RIG_H_
#define TESTS_SUPPORT_RESTORE_RIG_H_

#include <string>
#include <vector>

#include "agent/base/subprocess.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

struct RestoreRig {
  // The target is dir/target unless `target_dir` is given.
  explicit RestoreRig(const std::string& target_dir = "");

  // Writes standbyctl's config restoring `source` into the target (with
  // mapping_extra) and returns its path.
  std::string Config(const std::string& source) const;
  // `standbyctl restore` of `source`, with `extra` arguments.
  base::ProcessResult Restore(const std::string& source, std::vector<std::string> extra = {});

  // The target as last month's restore left it: MakeOldTree's tree.
  void SeedOldTree();
  // What a refused restore must leave as it is: every entry, and the target
  // directory itself (its times).
  std::vector<std::string> Snapshot() const;

  TestPki pki;
  TempDir dir;
  std::string target;
  TestAgent agent;
  std::string mapping_extra;  // TOML lines added to the restore mapping
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_RESTORE_RIG_H_
