// The example configurations in schedules/ are what users copy: each must
// pass `standbyctl config check` as shipped.

#include <filesystem>
#include <sstream>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::config {
namespace {

TEST_CASE("examples: every example configuration passes config check", "[examples]") {
  std::vector<std::string> examples;
  for (const auto& entry : std::filesystem::directory_iterator(SOURCE_DIR "/schedules")) {
    // agent-*.toml are standby-agent's configs, checked in agent_config_test.
    if (entry.path().extension() == ".toml" &&
        !entry.path().filename().string().starts_with("agent-")) {
      examples.push_back(entry.path());
    }
  }
  REQUIRE(examples.size() >= 2);
  for (const std::string& path : examples) {
    INFO(path);
    base::ProcessResult r = sb::testing::RunStandbyctl({"config", "check", path});
    CHECK(r.exit_code == 0);
    // What this machine lacks (the example's backups, its BMC password, its
    // certificates) is a warning here, never an error in the text.
    std::istringstream lines(r.err);
    for (std::string line; std::getline(lines, line);) {
      INFO(line);
      CHECK(line.find(": warning: ") != std::string::npos);
    }
  }
}

TEST_CASE("examples: virsh-power-status turns virsh domstate into on or off", "[examples]") {
  // A virsh that prints the state named by $STATE, or fails as virsh does
  // for an unknown domain.
  sb::testing::TempDir dir;
  dir.Write("virsh",
            "#!/bin/sh\n[ \"$1 $2 $3\" = \"domstate -- db-standby\" ] || { echo \"error: failed "
            "to get domain '$3'\" >&2; exit 1; }\nprintf '%s\\n\\n' \"$STATE\"\n",
            0755);
  auto run = [&](std::vector<std::string> args, const std::string& state) {
    base::ProcessSpec spec;
    spec.argv = {SOURCE_DIR "/schedules/virsh-power-status"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"PATH", dir.path() + ":/usr/bin:/bin"}, {"STATE", state}};
    spec.timeout = std::chrono::seconds(10);
    base::Result<base::ProcessResult> r = base::RunProcess(spec);
    REQUIRE(r.ok());
    return *r;
  };
  for (const char* on : {"running", "idle", "paused", "in shutdown", "blocked", "pmsuspended"}) {
    INFO(on);
    base::ProcessResult r = run({"db-standby"}, on);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "on\n");
  }
  for (const char* off : {"shut off", "crashed"}) {
    INFO(off);
    CHECK(run({"db-standby"}, off).out == "off\n");
  }
  base::ProcessResult odd = run({"db-standby"}, "dying");
  CHECK(odd.exit_code == 1);
  CHECK(odd.out.empty());
  CHECK(odd.err ==
        "virsh-power-status: domain db-standby is in a state this script does not know: dying\n");
  base::ProcessResult unknown = run({"web-standby"}, "running");
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.empty());
  CHECK(run({}, "running").exit_code == 2);
}

}  // namespace
}  // namespace sb::config
