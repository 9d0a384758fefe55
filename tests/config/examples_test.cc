// The example configurations in schedules/ are what users copy: each must
// pass `standbyctl config check` as shipped.

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/support/standbyctl_runner.h"

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
    CHECK(r.err == "");
    CHECK(r.exit_code == 0);
  }
}

}  // namespace
}  // namespace sb::config
