// `standbyctl power` against ipmi_sim, as a user runs it.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/ipmi_sim.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::cli {
namespace {

using sb::testing::IpmiSim;
using sb::testing::RunStandbyctl;
using sb::testing::TempDir;

TEST_CASE("cli: power on, status and off drive ipmi_sim's chassis", "[cli][power]") {
  IpmiSim sim;
  TempDir dir;
  dir.Write("bmc.pass", std::string(IpmiSim::kPassword) + "\n", 0600);
  std::string config = dir.Write(
      "c.toml",
      "[controller]\nstate_dir = \"state\"\n"
      "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.1:1\"\nshutdown_timeout = \"1s\"\n"
      "[standby.power]\ndriver = \"ipmi\"\nhost = \"127.0.0.1:" +
          std::to_string(sim.port()) +
          "\"\nusername = \"admin\"\npassword_file = \"bmc.pass\"\nmin_interval = \"0s\"\n"
          "timeout = \"1s\"\n");
  auto power = [&](const std::string& action, bool json = false) {
    std::vector<std::string> args = {"--config", config,      "power",
                                     action,     "--standby", "web1-standby"};
    if (json) args.push_back("--json");
    return RunStandbyctl(args);
  };
  base::ProcessResult status = power("status");
  INFO(status.err);
  CHECK(status.exit_code == 0);
  CHECK(status.out == "web1-standby: off (BMC 127.0.0.1:" + std::to_string(sim.port()) +
                          " chassis status (cipher suite 3))\n");

  base::ProcessResult on = power("on");
  INFO(on.err);
  CHECK(on.exit_code == 0);
  CHECK(on.out.starts_with("web1-standby: on (BMC"));
  CHECK(sim.HostPid() > 0);

  // The agent at 127.0.0.1:1 cannot answer: graceful fails, hard off confirms.
  base::ProcessResult off = power("off", true);
  INFO(off.err);
  CHECK(off.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(off.out);
  CHECK(j["state"] == "off");
  CHECK(j["steps"].size() >= 3);
  CHECK(sim.HostPid() == 0);
  // The password is nowhere in what was printed.
  CHECK(off.out.find(IpmiSim::kPassword) == std::string::npos);
  CHECK(off.err.find(IpmiSim::kPassword) == std::string::npos);
}

TEST_CASE("cli: a loose password file stops power before anything is sent", "[cli][power]") {
  TempDir dir;
  dir.Write("bmc.pass", "secret\n", 0600);
  std::string config = dir.Write(
      "c.toml",
      "[[standby]]\nname = \"s\"\nagent = \"127.0.0.1:1\"\n[standby.power]\ndriver = \"ipmi\"\n"
      "host = \"127.0.0.1:9\"\nusername = \"admin\"\npassword_file = \"bmc.pass\"\n");
  ::chmod(dir.Sub("bmc.pass").c_str(), 0644);
  base::ProcessResult r = RunStandbyctl({"--config", config, "power", "status", "--standby", "s"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("is accessible by group or others (mode 0644)") != std::string::npos);
  base::ProcessResult bad =
      RunStandbyctl({"--config", config, "power", "reboot", "--standby", "s"});
  CHECK(bad.exit_code == 2);
}

}  // namespace
}  // namespace sb::cli
