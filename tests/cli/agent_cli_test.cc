// The two programs end to end, as a user runs them: standbyctl pki makes the
// certificates, standby-agent runs as a process (standby and primary roles),
// and standbyctl agent ping / indicators talk to it.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/background_process.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::cli {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::RunStandbyctl;
using sb::testing::TempDir;

base::ProcessResult RunAgent(const std::vector<std::string>& args) {
  base::ProcessSpec spec;
  spec.argv = {STANDBY_AGENT_BIN};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.timeout = std::chrono::seconds(30);
  return std::move(*base::RunProcess(spec));
}

std::string AgentConfig(const std::string& role, int port, const std::string& name,
                        const std::string& extra) {
  return "listen = \"127.0.0.1:" + std::to_string(port) + "\"\nrole = \"" + role + "\"\n" + extra +
         "[tls]\nca = \"pki/ca.crt\"\ncert = \"pki/" + name + ".crt\"\nkey = \"pki/" + name +
         ".key\"\n";
}

TEST_CASE("cli: a controller and two agents made with standbyctl pki talk over mutual TLS",
          "[cli][agent]") {
  TempDir dir;
  const std::string pki = dir.Sub("pki");
  REQUIRE(RunStandbyctl({"pki", "init", pki}).exit_code == 0);
  for (const auto& [role, name] : std::vector<std::pair<std::string, std::string>>{
           {"controller", "controller"}, {"agent", "web1-standby"}, {"agent", "web1"}}) {
    base::ProcessResult r =
        RunStandbyctl({"pki", "issue", "--dir", pki, "--role", role, "--name", name});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  const int standby_port = sb::testing::FreePort();
  const int primary_port = sb::testing::FreePort();
  dir.Write("standby-agent.toml", AgentConfig("standby", standby_port, "web1-standby",
                                              "shutdown = [\"/bin/true\"]\nstate_dir = \"" +
                                                  dir.Sub("agent-state") + "\"\n"));
  dir.Write("primary-agent.toml", AgentConfig("primary", primary_port, "web1", ""));
  std::string config =
      dir.Write("standbyctl.toml",
                "[controller]\nstate_dir = \"state\"\n[controller.tls]\nca = \"pki/ca.crt\"\n"
                "cert = \"pki/controller.crt\"\nkey = \"pki/controller.key\"\n"
                "[primary]\nname = \"web1\"\nagent = \"127.0.0.1:" +
                    std::to_string(primary_port) +
                    "\"\n"
                    "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.1:" +
                    std::to_string(standby_port) +
                    "\"\n"
                    "power = { driver = \"command\", on = [\"true\"], off = [\"true\"], status = "
                    "[\"true\"] }\n");

  REQUIRE(RunAgent({"--config", dir.Sub("standby-agent.toml"), "--check-config"}).exit_code == 0);
  BackgroundProcess standby({STANDBY_AGENT_BIN, "--config", dir.Sub("standby-agent.toml")},
                            dir.Sub("standby-agent.log"));
  BackgroundProcess primary({STANDBY_AGENT_BIN, "--config", dir.Sub("primary-agent.toml")},
                            dir.Sub("primary-agent.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", standby_port));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", primary_port));

  base::ProcessResult ping =
      RunStandbyctl({"--config", config, "agent", "ping", "--standby", "web1-standby"});
  INFO(ping.err);
  CHECK(ping.exit_code == 0);
  CHECK(ping.out.starts_with("web1-standby: standby agent " STANDBY_VERSION " (protocol 1) on "));

  base::ProcessResult ind =
      RunStandbyctl({"--config", config, "agent", "indicators", "--host", "primary", "--json"});
  INFO(ind.err);
  REQUIRE(ind.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(ind.out);
  CHECK(j["memory"]["total_kb"].get<uint64_t>() > 0);
  CHECK(j.contains("ephemeral_ports"));

  base::ProcessResult text =
      RunStandbyctl({"--config", config, "agent", "indicators", "--host", "web1-standby"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("ephemeral ports") != std::string::npos);

  // Both agents logged the controller's certificate subject.
  CHECK(standby.Stop() == 0);
  CHECK(primary.Stop() == 0);
  CHECK(sb::testing::ReadWholeFile(dir.Sub("standby-agent.log"))
            .find("certificate CN=controller,OU=standbyctl-controller") != std::string::npos);

  // A stopped agent is a failed ping (exit 1) that names where it looked.
  base::ProcessResult down =
      RunStandbyctl({"--config", config, "agent", "ping", "--standby", "web1-standby"});
  CHECK(down.exit_code == 1);
  CHECK(down.err.find("cannot connect to 127.0.0.1:" + std::to_string(standby_port)) !=
        std::string::npos);
  // An unknown host name is a usage error.
  base::ProcessResult unknown =
      RunStandbyctl({"--config", config, "agent", "ping", "--standby", "db"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("has no standby named \"db\"") != std::string::npos);
}

TEST_CASE("cli: a second standby-agent on the same state directory refuses to start",
          "[cli][agent]") {
  // Both recover "interrupted" restores at start: the second would take the
  // first one's running restore for one and remove its staging area.
  TempDir dir;
  const std::string pki = dir.Sub("pki");
  REQUIRE(RunStandbyctl({"pki", "init", pki}).exit_code == 0);
  REQUIRE(RunStandbyctl({"pki", "issue", "--dir", pki, "--role", "agent", "--name", "web1-standby"})
              .exit_code == 0);
  const std::string state = dir.Sub("agent-state");
  const std::string extra = "shutdown = [\"/bin/true\"]\ndata_roots = [\"" + dir.Sub("target") +
                            "\"]\nstate_dir = \"" + state + "\"\n";
  const int port = sb::testing::FreePort();
  const int second_port = sb::testing::FreePort();
  dir.Write("first.toml", AgentConfig("standby", port, "web1-standby", extra));
  dir.Write("second.toml", AgentConfig("standby", second_port, "web1-standby", extra));
  // What the first agent's restore has staged so far, registered as running.
  dir.Write("target/.standbyctl-staging/f0", "half a fi");
  BackgroundProcess first({STANDBY_AGENT_BIN, "--config", dir.Sub("first.toml")},
                          dir.Sub("first.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", port));
  dir.Write("agent-state/restores/0123", dir.Sub("target"));

  base::ProcessResult second = RunAgent({"--config", dir.Sub("second.toml")});
  CHECK(second.exit_code == 3);
  CHECK(second.err.find("another standby-agent (pid " + std::to_string(first.pid()) + ") holds " +
                        state +
                        "/agent.lock: two agents sharing the state "
                        "directory " +
                        state + " would undo each other's restores") != std::string::npos);
  CHECK(sb::testing::ReadWholeFile(dir.Sub("target/.standbyctl-staging/f0")) == "half a fi");
  CHECK(sb::testing::ReadWholeFile(dir.Sub("agent-state/restores/0123")) == dir.Sub("target"));
  CHECK(sb::testing::WaitForPort("127.0.0.1", port));  // the first one still serves
  CHECK(first.Stop() == 0);

  // Once the first is gone, the lock is free: the second starts and
  // recovers what the first left (here: discards the journal-less staging).
  BackgroundProcess again({STANDBY_AGENT_BIN, "--config", dir.Sub("second.toml")},
                          dir.Sub("second.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", second_port));  // recovery comes first
  const std::string log = sb::testing::ReadWholeFile(dir.Sub("second.log"));
  CHECK(log.find("interrupted restore of " + dir.Sub("target") + " discarded") !=
        std::string::npos);
  CHECK(::access(dir.Sub("target/.standbyctl-staging").c_str(), F_OK) != 0);
  CHECK(again.Stop() == 0);
}

TEST_CASE("cli: standby-agent reports a bad config at its place and exits 2", "[cli][agent]") {
  TempDir dir;
  std::string path = dir.Write("agent.toml", "listen = \"h\"\nrole = \"backup\"\n");
  base::ProcessResult r = RunAgent({"--config", path});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(path + ":2:8: role: unknown role \"backup\" (use standby or primary)") !=
        std::string::npos);
  base::ProcessResult help = RunAgent({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--check-config") != std::string::npos);
}

}  // namespace
}  // namespace sb::cli
