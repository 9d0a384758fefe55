// The all-or-nothing guarantee under SIGKILL: the real standby-agent is
// killed at crash points drawn at random across a restore's staging and
// commit (STANDBY_AGENT_CRASH_POINT, see agent/sync/staged_restore.h), then
// restarted. After each trial the target must be exactly the old state or
// exactly the new one, and the next restore must reach the new state.

#include <chrono>
#include <random>

#include <catch2/catch.hpp>

#include "agent/base/file.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/background_process.h"
#include "tests/support/backup_tree.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/tree_compare.h"

namespace sb::restore {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::DescribeTree;
using sb::testing::RunOrFail;
using sb::testing::RunStandbyctl;
using sb::testing::Sh;
using sb::testing::TempDir;
using sb::testing::TestPki;

constexpr int kTrials = 60;
constexpr auto kTimeBudget = std::chrono::minutes(8);

TEST_CASE("restore: SIGKILL anywhere in a restore leaves the old or the new state",
          "[restore][crash]") {
  TestPki pki;
  TempDir dir;
  sb::testing::MakeOldTree(dir);
  sb::testing::MakeNewTree(dir);
  RunOrFail({"rsync", "-aH", dir.Sub("old") + "/", dir.Sub("ref-new") + "/"});
  RunOrFail({"rsync", "-aH", "--delete", dir.Sub("src") + "/", dir.Sub("ref-new") + "/"});
  const std::vector<std::string> old_state = DescribeTree(dir.Sub("old"));
  const std::vector<std::string> new_state = DescribeTree(dir.Sub("ref-new"));
  REQUIRE(old_state != new_state);

  const std::string target = dir.Sub("target");
  const int port = sb::testing::FreePort();
  const std::string agent_config = dir.Write(
      "agent.toml",
      "listen = \"127.0.0.1:" + std::to_string(port) + "\"\nrole = \"standby\"\ndata_roots = [\"" +
          target + "\"]\nstate_dir = \"" + dir.Sub("agent-state") +
          "\"\nshutdown = [\"true\"]\n[tls]\nca = \"" + pki.standby_agent.ca + "\"\ncert = \"" +
          pki.standby_agent.cert + "\"\nkey = \"" + pki.standby_agent.key + "\"\n");
  const std::string config =
      sb::testing::WriteRestoreConfig(dir, pki, port, dir.Sub("src"), target);
  auto start_agent = [&](const std::vector<std::string>& env) {
    std::vector<std::string> argv = {"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {STANDBY_AGENT_BIN, "--config", agent_config});
    auto agent = std::make_unique<BackgroundProcess>(argv, dir.Sub("agent.log"));
    if (!sb::testing::WaitForPort("127.0.0.1", port)) {
      FAIL("the agent did not start:\n" << sb::testing::ReadWholeFile(dir.Sub("agent.log")));
    }
    return agent;
  };
  auto restore = [&] {
    return RunStandbyctl({"--config", config, "restore", "--standby", "web1-standby"});
  };
  auto reset_target = [&] {
    Sh("rm -rf " + target + " " + dir.Sub("agent-state/hashcache"));
    RunOrFail({"rsync", "-aH", dir.Sub("old") + "/", target + "/"});
  };

  // How many crash points a whole restore passes.
  reset_target();
  long points = 0;
  {
    auto agent = start_agent({"STANDBY_AGENT_CRASH_TALLY=" + dir.Sub("tally")});
    base::ProcessResult r = restore();
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    points = std::stol(*base::ReadFile(dir.Sub("tally")));
    CHECK(agent->Stop() == 0);
  }
  REQUIRE(points > 50);

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed << ", " << points << " crash points per restore");
  std::mt19937 rng(seed);
  std::uniform_int_distribution<long> pick(1, points);
  int crashed = 0, ended_old = 0, ended_new = 0;
  const auto deadline = std::chrono::steady_clock::now() + kTimeBudget;
  for (int trial = 0; trial < kTrials && std::chrono::steady_clock::now() < deadline; ++trial) {
    const long point = pick(rng);
    INFO("trial " << trial << ": SIGKILL at crash point " << point);
    reset_target();
    {
      auto agent = start_agent({"STANDBY_AGENT_CRASH_POINT=" + std::to_string(point)});
      base::ProcessResult r = restore();
      if (r.exit_code != 0) ++crashed;
      agent->Stop();
    }
    auto agent = start_agent({});  // recovers at start
    const std::vector<std::string> after = DescribeTree(target);
    const bool is_old = after == old_state, is_new = after == new_state;
    if (!is_old && !is_new) {
      FAIL_CHECK("the target is neither the old nor the new state:\n"
                 << sb::testing::TreeDifference(dir.Sub("ref-new"), target));
    }
    ended_old += is_old;
    ended_new += is_new;
    base::ProcessResult again = restore();
    INFO(again.err);
    CHECK(again.exit_code == 0);
    CHECK(DescribeTree(target) == new_state);
    CHECK(agent->Stop() == 0);
  }
  WARN(crashed << " of " << kTrials << " trials killed the agent; " << ended_old
               << " ended in the old state, " << ended_new << " in the new");
  CHECK(crashed >= 50);
  CHECK(ended_old > 0);
  CHECK(ended_new > 0);
}

}  // namespace
}  // namespace sb::restore
