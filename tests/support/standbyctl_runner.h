// Test support: runs the built standbyctl binary, as a user would, and
// returns its exit code and output.

#ifndef TESTS_SUPPORT_STANDBYCTL_RUNNER_H_
#define TESTS_SUPPORT_STANDBYCTL_RUNNER_H_

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "agent/base/subprocess.h"

namespace sb::testing {

// Runs STANDBYCTL_BIN with `args`, STANDBYCTL_CONFIG unset unless given in
// `env`, and a deadline (60 s unless given). Fails the test when it cannot start.
// Runs `argv` (a peer tool: tar, rsync, python3, ...) and fails the test,
// showing its stderr, unless it exits 0.
void RunOrFail(const std::vector<std::string>& argv);

base::ProcessResult RunStandbyctl(const std::vector<std::string>& args,
                                  const std::vector<std::pair<std::string, std::string>>& env = {},
                                  std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_STANDBYCTL_RUNNER_H_
