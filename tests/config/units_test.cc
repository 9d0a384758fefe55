// The systemd units in schedules/systemd/ are what users install: each must
// pass `systemd-analyze verify` (pointed at the binaries just built), and
// the hardened ones must keep their `systemd-analyze security` exposure at
// or below 4.5 (the README's table).

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/temp_dir.h"

namespace sb::config {
namespace {

namespace fs = std::filesystem;

base::ProcessResult Analyze(std::vector<std::string> args) {
  base::ProcessSpec spec;
  spec.argv = {"systemd-analyze"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  // verify looks up the units' Documentation= man pages: this build's.
  spec.env = {
      {"SYSTEMD_COLORS", "0"}, {"SYSTEMD_PAGER", ""}, {"MANPATH", BUILD_DIR "/schedules/man"}};
  spec.timeout = std::chrono::seconds(60);
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  REQUIRE(r.ok());  // systemd-analyze is installed by scripts/setup
  return *r;
}

// The units, copied with their ExecStart paths pointing at this build.
std::vector<std::string> CopyUnits(const sb::testing::TempDir& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(SOURCE_DIR "/schedules/systemd")) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string unit =
        std::regex_replace(text.str(), std::regex("/usr/local/bin/standbyctl"), STANDBYCTL_BIN);
    unit = std::regex_replace(unit, std::regex("/usr/local/sbin/standby-agent"), STANDBY_AGENT_BIN);
    out.push_back(dir.Write(entry.path().filename().string(), unit));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("units: every systemd unit passes systemd-analyze verify", "[examples][units]") {
  sb::testing::TempDir dir;
  std::vector<std::string> units = CopyUnits(dir);
  REQUIRE(units.size() >= 8);
  std::vector<std::string> args = {"verify"};
  args.insert(args.end(), units.begin(), units.end());
  base::ProcessResult r = Analyze(args);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  // A unit with a mistake does not pass: the check can fail.
  std::string bad =
      dir.Write("broken.service", "[Service]\nExecStart=/nonexistent/standbyctl daemon\nBogus=1\n");
  base::ProcessResult broken = Analyze({"verify", bad});
  CHECK(broken.exit_code != 0);
  CHECK(broken.err.find("Unknown key 'Bogus'") != std::string::npos);
}

TEST_CASE("units: the hardened units stay at or below an exposure of 4.5", "[examples][units]") {
  sb::testing::TempDir dir;
  CopyUnits(dir);
  const std::pair<const char*, double> kUnits[] = {
      {"standbyctl-daemon.service", 4.5},     {"standbyctl-drill@.service", 4.5},
      {"standbyctl-metrics.service", 4.5},    {"standby-agent.service", 4.5},
      {"standby-agent-primary.service", 4.5},
  };
  const std::regex level("Overall exposure level for [^:]+: ([0-9]+\\.[0-9])");
  for (const auto& [unit, most] : kUnits) {
    INFO(unit);
    base::ProcessResult r = Analyze({"security", "--offline=true", dir.Sub(unit)});
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, level));
    const double exposure = std::stod(m[1].str());
    INFO(exposure);
    CHECK(exposure <= most);
  }
  // The primary's agent can write nothing and shut nothing down.
  std::ifstream in(dir.Sub("standby-agent-primary.service"));
  std::stringstream primary;
  primary << in.rdbuf();
  CHECK(primary.str().find("\nReadWritePaths") == std::string::npos);
  CHECK(primary.str().find("\nStateDirectory") == std::string::npos);
  CHECK(primary.str().find("\nCapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n") !=
        std::string::npos);
  CHECK(primary.str().find("\nProtectSystem=strict\n") != std::string::npos);
}

}  // namespace
}  // namespace sb::config
