// End-to-end drills, as a user runs them: the real standbyctl binary, the
// real ipmi_sim as the standby's BMC whose chassis starts and stops a real
// standby-agent (the "host"), a primary agent, HTTP services from python3's
// http.server, and real sqlite state. All on 127.0.0.1; every process is
// stopped by its pid. One test per real peer and path; the drill's logic
// itself (every phase's failure, the guard, max_exposure, the arithmetic)
// is tested on fakes in drill_test.cc.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/subprocess.h"
#include "standby/store/state_store.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/background_process.h"
#include "tests/support/backup_tree.h"
#include "tests/support/dns_server.h"
#include "tests/support/ipmi_sim.h"
#include "tests/support/query.h"
#include "tests/support/redfish_mock.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tree_compare.h"

namespace sb::drill {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::FreePort;
using sb::testing::IpmiSim;
using sb::testing::ReadWholeFile;
using sb::testing::RedfishMock;
using sb::testing::RunStandbyctl;
using sb::testing::Sh;
using sb::testing::TempDir;
using sb::testing::TestAgent;
using sb::testing::TestPki;
using sb::testing::TreeDifference;
using sb::testing::WaitForPort;

// Waits up to `seconds` for `done`, looking every 10 ms; false if it never came.
template <typename F>
bool Eventually(F done, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

struct RigOptions {
  bool agent_host = true;            // the chassis starts a standby-agent; else `host`
  std::string host = "";             // the host command when not an agent
  std::string checks = "";           // [[standby.check]] tables; default: a passing command check
  bool http = false;                 // serve the target and the backup over HTTP, check and probe
  std::string source_override = "";  // the mapping's source; default dir/backup
  std::string lease = "10s";
  std::string boot_timeout = "20s";
  std::string max_exposure = "2m";
  std::string smoke_timeout = "2s";
  std::string controller = "";  // more keys of [controller]
  std::string standby = "";     // more keys of the [[standby]]
  bool primary_down = false;    // the [primary] agent's address has nobody listening
  bool redfish = false;         // the BMC is redfish_mock.py, not ipmi_sim
};

// A standby behind ipmi_sim, a primary agent and a controller config.
struct Rig {
  explicit Rig(RigOptions o = {}) : options(std::move(o)) {
    agent_port = FreePort();
    target = dir.Sub("standby/www");
    source = dir.Sub("backup");
    Sh("mkdir -p " + target + " " + source + "/app && cd " + source +
       " && echo '<h1>Welcome to web1</h1>' > index.html && head -c 300000 /dev/urandom > "
       "app/data.bin && echo 1700000000 > .canary && chmod 0644 index.html .canary");
    dir.Write("agent.toml",
              "listen = \"127.0.0.1:" + std::to_string(agent_port) +
                  "\"\nrole = \"standby\"\n"
                  "data_roots = [\"" +
                  dir.Sub("standby") + "\"]\nstate_dir = \"" + dir.Sub("agent-state") +
                  "\"\n"
                  // The host goes down when its agent ends: shut down by ending it.
                  "shutdown = [\"/bin/sh\", \"-c\", \"(sleep 0.3; kill -TERM $PPID) "
                  ">/dev/null 2>&1 &\"]\n"
                  "[tls]\nca = \"" +
                  pki.standby_agent.ca + "\"\ncert = \"" + pki.standby_agent.cert + "\"\nkey = \"" +
                  pki.standby_agent.key +
                  "\"\n"
                  "[[command]]\nname = \"check-index\"\nargv = [\"/usr/bin/test\", \"-s\", \"" +
                  target +
                  "/index.html\"]\n"
                  "[[command]]\nname = \"always-fails\"\nargv = [\"/bin/sh\", \"-c\", \"echo "
                  "database down >&2; exit 3\"]\n");
    const std::string host =
        options.agent_host ? std::string(STANDBY_AGENT_BIN) + " --config " + dir.Sub("agent.toml")
                           : options.host;
    std::string power;
    if (options.redfish) {
      // The mock's reset starts and stops the host as ipmi_sim's chassis
      // script does; a host that ends by itself turns the system Off.
      const std::string pidfile = dir.Sub("host.pid");
      RedfishMock::Options bmc;
      bmc.on_command =
          host + " </dev/null >>" + dir.Sub("host.log") + " 2>&1 & echo $! > " + pidfile;
      bmc.off_command = "[ -f " + pidfile + " ] && kill $(cat " + pidfile + "); rm -f " + pidfile;
      bmc.host_pidfile = pidfile;
      redfish = std::make_unique<RedfishMock>(dir, bmc);
      dir.Write("bmc.pass", std::string(RedfishMock::kPassword) + "\n", 0600);
      power = "[standby.power]\ndriver = \"redfish\"\nhost = \"127.0.0.1:" +
              std::to_string(redfish->port()) +
              "\"\nusername = \"admin\"\npassword_file = \"bmc.pass\"\nca_file = \"" +
              redfish->ca() + "\"\ntimeout = \"5s\"\n";
    } else {
      sim = std::make_unique<IpmiSim>(host);
      dir.Write("bmc.pass", std::string(IpmiSim::kPassword) + "\n", 0600);
      power =
          "[standby.power]\ndriver = \"ipmi\"\nhost = \"127.0.0.1:" + std::to_string(sim->port()) +
          "\"\nusername = \"admin\"\npassword_file = \"bmc.pass\"\nmin_interval = "
          "\"0s\"\ntimeout = \"1s\"\ncipher_suite = 3\n";
    }
    std::string checks = options.checks.empty()
                             ? "[[standby.check]]\nname = \"index-present\"\nkind = "
                               "\"command\"\ncommand = \"check-index\"\n"
                             : options.checks;
    std::string probes;
    if (options.http) {
      standby_http_port = FreePort();
      primary_http_port = FreePort();
      standby_http = std::make_unique<BackgroundProcess>(
          std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                                   "--directory", target, std::to_string(standby_http_port)},
          dir.Sub("standby-http.log"));
      primary_http = std::make_unique<BackgroundProcess>(
          std::vector<std::string>{"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                                   "--directory", source, std::to_string(primary_http_port)},
          dir.Sub("primary-http.log"));
      REQUIRE(WaitForPort("127.0.0.1", standby_http_port));
      REQUIRE(WaitForPort("127.0.0.1", primary_http_port));
      checks +=
          "[[standby.check]]\nname = \"homepage\"\nkind = \"http\"\nurl = "
          "\"http://127.0.0.1:" +
          std::to_string(standby_http_port) +
          "/index.html\"\nbody_contains = \"Welcome\"\ntimeout = \"5s\"\n";
      probes =
          "[[standby.probe]]\nname = \"homepage-latency\"\nprimary_url = "
          "\"http://127.0.0.1:" +
          std::to_string(primary_http_port) +
          "/index.html\"\nstandby_url = \"http://127.0.0.1:" + std::to_string(standby_http_port) +
          "/index.html\"\nrequests = 5\ninterval = \"20ms\"\n";
    }
    config =
        dir.Write("standbyctl.toml",
                  "[controller]\nstate_dir = \"" + dir.Sub("state") + "\"\n" + options.controller +
                      "[controller.tls]\nca = \"" + pki.controller.ca + "\"\ncert = \"" +
                      pki.controller.cert + "\"\nkey = \"" + pki.controller.key +
                      "\"\n[primary]\nname = \"web1\"\nagent = \"127.0.0.1:" +
                      std::to_string(options.primary_down ? FreePort() : primary.port()) +
                      "\"\nagent_name = \"web1\"\n"
                      "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.1:" +
                      std::to_string(agent_port) + "\"\nboot_timeout = \"" + options.boot_timeout +
                      "\"\nsmoke_timeout = \"" + options.smoke_timeout +
                      "\"\nshutdown_timeout = \"5s\"\nlease = \"" + options.lease +
                      "\"\nmax_exposure = \"" + options.max_exposure + "\"\n" + options.standby +
                      power + "[[standby.restore]]\nsource = \"" +
                      (options.source_override.empty() ? source : options.source_override) +
                      "\"\ntarget = \"" + target + "\"\ncanary = \".canary\"\nowners = \"none\"\n" +
                      checks + probes);
  }

  base::ProcessResult Drill(bool json = true, std::vector<std::string> global = {}) {
    std::vector<std::string> args = {"--config", config};
    args.insert(args.end(), global.begin(), global.end());
    for (const char* a : {"drill", "--standby", "web1-standby"}) args.push_back(a);
    if (json) args.push_back("--json");
    return RunStandbyctl(args, {}, std::chrono::seconds(150));
  }
  nlohmann::json History() {
    base::ProcessResult r = RunStandbyctl({"--config", config, "history", "--json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out);
  }
  // A drill running in the background, its output in dir/drill.log.
  std::unique_ptr<BackgroundProcess> StartDrill() {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{STANDBYCTL_BIN, "--config", config, "drill", "--standby",
                                 "web1-standby"},
        dir.Sub("drill.log"));
  }
  bool DrillSaid(const std::string& text) const {
    return ReadWholeFile(dir.Sub("drill.log")).find(text) != std::string::npos;
  }

  TempDir dir;
  RigOptions options;
  TestPki pki;
  TestAgent primary{pki, agent::Role::kPrimary};
  int agent_port = 0;
  std::string target, source, config;
  std::unique_ptr<IpmiSim> sim;
  std::unique_ptr<RedfishMock> redfish;
  int standby_http_port = 0, primary_http_port = 0;
  std::unique_ptr<BackgroundProcess> standby_http, primary_http;
};

std::vector<std::string> PhaseOutcomes(const nlohmann::json& summary) {
  std::vector<std::string> out;
  for (const auto& p : summary.at("phases")) {
    out.push_back(p.at("name").get<std::string>() + " " + p.at("outcome").get<std::string>());
  }
  return out;
}

TEST_CASE("drill e2e: a green drill restores, checks, compares and ends confirmed off",
          "[drill][e2e]") {
  Rig rig(RigOptions{.http = true});
  base::ProcessResult r = rig.Drill();
  INFO(r.err << rig.sim->HostLog());
  REQUIRE(r.exit_code == 0);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("result") == "passed");
  CHECK(PhaseOutcomes(s) == std::vector<std::string>{"preflight passed", "power on passed",
                                                     "boot passed", "lease passed",
                                                     "restore passed", "smoke passed",
                                                     "compare passed", "shutdown passed"});
  CHECK(s.at("confirmed_off") == true);
  CHECK(rig.sim->HostPid() == 0);
  CHECK(TreeDifference(rig.source, rig.target, {.owners = false}).empty());
  // The record: RTO within exposure, RPO from the canary (2023-11-14).
  CHECK(s.at("rto_seconds").get<double>() > 0);
  CHECK(s.at("rto_seconds").get<double>() <= s.at("exposure_seconds").get<double>());
  CHECK(s.at("boot_seconds").get<double>() <= s.at("rto_seconds").get<double>());
  CHECK(s.at("rpo_from") == "canary .canary of " + rig.source);
  CHECK(s.at("rpo_seconds").get<double>() > 365.0 * 86'400);
  CHECK_THAT(s.at("started").get<std::string>(),
             Catch::Matches("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z"));
  CHECK(s.at("reason").is_null());
  CHECK(s.at("failed_phase").is_null());
  CHECK(s.at("hold_until").is_null());
  CHECK(s.at("hold_log").is_null());
  CHECK(s.at("checks").size() == 2);
  CHECK(s.at("probes").at(0).at("standby_median_us").is_number());
  // The footprint on the primary: its agent once (Hello, a Ping and two
  // Indicators readings), then HTTP/1.0 requests, each a new connection,
  // until the cap of 4 sessions stops the probing.
  CHECK(s.at("primary_connections") == 4);
  CHECK(s.at("primary_requests") == 4 + 3);
  // Too few samples of the primary for a verdict, and the verdict says why.
  const std::string verdict = s.at("probes").at(0).at("verdict").get<std::string>();
  CHECK_THAT(verdict, Catch::StartsWith("inconclusive: fewer than 9 samples a side"));
  CHECK(verdict.find("sample cap reached: stopped probing the primary at its cap of 4 sessions") !=
        std::string::npos);
  CHECK(s.at("probes").at(0).at("decision") == "inconclusive");
  nlohmann::json history = rig.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("result") == "passed");
  // history --json prints the record in the shape drill --json starts with.
  for (const auto& [key, value] : history[0].items()) {
    INFO(key);
    CHECK(s.at(key) == value);
  }

  // A second drill after the backup changed: only the change travels.
  Sh("cd " + rig.source +
     " && echo '<h1>Welcome to web1, v2</h1>' > index.html && touch -d "
     "'2 hours ago' index.html && date +%s > .canary");
  r = rig.Drill();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  s = nlohmann::json::parse(r.out);
  CHECK(s.at("restores").at(0).at("bytes_literal").get<int64_t>() < 1000);
  CHECK(ReadWholeFile(rig.target + "/index.html") == "<h1>Welcome to web1, v2</h1>\n");
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("drill e2e: a green drill through a Redfish BMC", "[drill][e2e][redfish]") {
  Rig rig(RigOptions{.redfish = true});
  base::ProcessResult r = rig.Drill();
  INFO(r.err << ReadWholeFile(rig.dir.Sub("host.log")));
  REQUIRE(r.exit_code == 0);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("result") == "passed");
  CHECK(PhaseOutcomes(s) == std::vector<std::string>{"preflight passed", "power on passed",
                                                     "boot passed", "lease passed",
                                                     "restore passed", "smoke passed",
                                                     "compare skipped", "shutdown passed"});
  CHECK(s.at("confirmed_off") == true);
  CHECK(TreeDifference(rig.source, rig.target, {.owners = false}).empty());
  // The host is gone and the BMC says Off.
  const int host = std::stoi(ReadWholeFile(rig.dir.Sub("host.pid")));
  CHECK(::kill(host, 0) != 0);
  base::ProcessResult status =
      RunStandbyctl({"--config", rig.config, "power", "status", "--standby", "web1-standby"});
  CHECK(status.exit_code == 0);
  CHECK_THAT(status.out, Catch::Contains("web1-standby: off (BMC 127.0.0.1:") &&
                             Catch::Contains(" Redfish /redfish/v1/Systems/1 PowerState Off)"));
  // Every command logged in once and deleted its session.
  const std::vector<std::string> requests = rig.redfish->Requests();
  auto count = [&](std::string_view prefix) {
    return std::count_if(requests.begin(), requests.end(),
                         [&](const std::string& l) { return l.starts_with(prefix); });
  };
  CHECK(count("POST /redfish/v1/SessionService/Sessions none 201") > 0);
  CHECK(count("DELETE /redfish/v1/SessionService/Sessions/") ==
        count("POST /redfish/v1/SessionService/Sessions none 201"));
  CHECK(count("POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset token 204") >= 1);

  // The manual commands drive the same BMC: on waits for PowerState On,
  // soft-off asks GracefulShutdown, off ends confirmed.
  auto power = [&](const char* action) {
    return RunStandbyctl({"--config", rig.config, "power", action, "--standby", "web1-standby"});
  };
  base::ProcessResult on = power("on");
  INFO(on.err);
  CHECK(on.exit_code == 0);
  CHECK_THAT(on.out, Catch::Contains("web1-standby: on (") && Catch::Contains("PowerState On)"));
  base::ProcessResult soft = power("soft-off");
  CHECK(soft.exit_code == 0);
  CHECK_THAT(soft.out, Catch::StartsWith("web1-standby: soft off requested"));
  CHECK_THAT(power("status").out, Catch::Contains("PowerState Off)"));
  REQUIRE(power("on").exit_code == 0);
  base::ProcessResult off = power("off");
  INFO(off.err);
  CHECK(off.exit_code == 0);
  CHECK_THAT(off.out, Catch::Contains("web1-standby: off (") && Catch::Contains("PowerState Off)"));
  const std::vector<std::string> after = rig.redfish->Requests();
  CHECK(std::count(after.begin(), after.end(),
                   "POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset token 204") >= 3);
}

TEST_CASE("drill e2e: the live view shows every phase and the summary", "[drill][e2e]") {
  Rig rig;
  base::ProcessResult r = rig.Drill(false);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* line : {"] preflight  passed", "] boot       passed: agent answered ",
                           "] restore    passed: 1 mapping:", "] shutdown   passed: confirmed off",
                           "drill 1 on web1-standby: PASSED", "recorded as drill 1 in"}) {
    CHECK(r.out.find(line) != std::string::npos);
  }
}

TEST_CASE("drill e2e: an agent that never comes up fails at boot, and the standby ends off",
          "[drill][e2e]") {
  Rig rig(RigOptions{.agent_host = false, .host = "sleep 3600", .boot_timeout = "3s"});
  base::ProcessResult r = rig.Drill();
  INFO(r.err);
  CHECK(r.exit_code == 1);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("result") == "failed");
  CHECK(s.at("failed_phase") == "boot");
  CHECK(s.at("reason").get<std::string>().find(
            "the agent did not answer within the boot_timeout of 3s") != std::string::npos);
  // Graceful through the agent cannot work; the hard power off did it.
  CHECK(s.at("confirmed_off") == true);
  CHECK(rig.sim->HostPid() == 0);
  CHECK(rig.sim->Calls().find("set power 0") != std::string::npos);
}

TEST_CASE(
    "drill e2e: a failed drill logs one error for journald, refreshes the metrics and runs "
    "on_failure with its JSON",
    "[drill][e2e]") {
  TempDir out;
  const std::string textfile = out.Sub("textfile");
  std::filesystem::create_directory(textfile);
  Rig rig(RigOptions{.agent_host = false,
                     .host = "sleep 3600",
                     .boot_timeout = "3s",
                     .controller = "metrics_dir = \"" + textfile +
                                   "\"\non_failure = [\"/bin/sh\", \"-c\", \"cat > " +
                                   out.Sub("failure.json") +
                                   "; echo $STANDBYCTL_RESULT $STANDBYCTL_FAILED_PHASE > " +
                                   out.Sub("failure.env") + "\"]\non_failure_timeout = \"20s\"\n"});
  base::ProcessResult r = rig.Drill(true, {"--log-format", "journal"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  const int64_t id = nlohmann::json::parse(r.out).at("id");
  // One error line at syslog priority 3 naming the drill, standby, phase
  // and reason.
  const std::string line = fmt::format("<3>error: drill {} of web1-standby failed in boot: ", id);
  CHECK(r.err.find("\n" + line) != std::string::npos);
  // on_failure got the drill in full on stdin, and its outcome in the environment.
  nlohmann::json j = nlohmann::json::parse(ReadWholeFile(out.Sub("failure.json")));
  CHECK(j.at("id") == id);
  CHECK(j.at("failed_phase") == "boot");
  CHECK(j.at("phases").size() >= 3);
  CHECK(ReadWholeFile(out.Sub("failure.env")) == "failed boot\n");
  // The textfile says so too.
  const std::string prom = ReadWholeFile(textfile + "/standbyctl.prom");
  CHECK(prom.find("standbyctl_drill_success{standby=\"web1-standby\"} 0\n") != std::string::npos);
  CHECK(prom.find("standbyctl_verification_stale{standby=\"web1-standby\"} 1\n") !=
        std::string::npos);
}

TEST_CASE("drill e2e: an agent that accepts and drops connections is retried within bounds",
          "[drill][e2e]") {
  TempDir scratch;
  const std::string counter = scratch.Sub("accepts");
  // A "host" whose port accepts TCP and closes at once, counting connections.
  const int port = FreePort();
  scratch.Write("dropper.py",
                "import socket, sys\n"
                "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16)\n"
                "n = 0\n"
                "while True:\n"
                "    c, _ = s.accept(); c.close(); n += 1\n"
                "    open(sys.argv[2], 'w').write(str(n))\n");
  RigOptions o;
  o.agent_host = false;
  o.host = "python3 " + scratch.Sub("dropper.py") + " " + std::to_string(port) + " " + counter;
  o.boot_timeout = "4s";
  Rig rig(o);
  // Point the standby's agent address at the dropper.
  std::string text = ReadWholeFile(rig.config);
  const std::string from = "agent = \"127.0.0.1:" + std::to_string(rig.agent_port) + "\"";
  text.replace(text.find(from), from.size(), "agent = \"127.0.0.1:" + std::to_string(port) + "\"");
  rig.dir.Write("standbyctl.toml", text);
  const auto start = std::chrono::steady_clock::now();
  base::ProcessResult r = rig.Drill();
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(r.err);
  CHECK(r.exit_code == 1);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("failed_phase") == "boot");
  const int accepts = std::stoi(ReadWholeFile(counter).empty() ? "0" : ReadWholeFile(counter));
  INFO("accepted " << accepts);
  // Backoff from 250 ms, doubling: a handful of attempts in 4 s, never a loop.
  CHECK(accepts >= 2);
  CHECK(accepts <= 10);
  CHECK(took < std::chrono::seconds(30));
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("drill e2e: a restore that fails leaves the target as it was and the standby off",
          "[drill][e2e]") {
  TempDir other;
  // A truncated archive: the restore fails midway through reading it.
  Sh("mkdir -p " + other.Sub("b") + " && cd " + other.Sub("b") +
     " && head -c 2000000 /dev/urandom > big.bin && echo 1700000000 > .canary && tar -cf " +
     other.Sub("full.tar") + " .canary big.bin && head -c 1000000 " + other.Sub("full.tar") +
     " > " + other.Sub("cut.tar"));
  Rig rig(RigOptions{.source_override = other.Sub("cut.tar")});
  Sh("echo old > " + rig.target + "/old.txt");
  const std::vector<std::string> before = sb::testing::DescribeTree(rig.target);
  base::ProcessResult r = rig.Drill();
  INFO(r.err);
  CHECK(r.exit_code == 1);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("failed_phase") == "restore");
  CHECK(s.at("reason").get<std::string>().find("the target keeps its state from before") !=
        std::string::npos);
  CHECK(sb::testing::DescribeTree(rig.target) == before);
  CHECK(s.at("confirmed_off") == true);
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("drill e2e: a failing smoke check fails the drill, and no checks is never a pass",
          "[drill][e2e]") {
  {
    Rig rig(RigOptions{.checks = "[[standby.check]]\nname = \"database\"\nkind = "
                                 "\"command\"\ncommand = \"always-fails\"\n"});
    base::ProcessResult r = rig.Drill();
    CHECK(r.exit_code == 1);
    nlohmann::json s = nlohmann::json::parse(r.out);
    CHECK(s.at("failed_phase") == "smoke");
    // Retried with backoff until the smoke_timeout, then failed.
    CHECK_THAT(s.at("reason").get<std::string>(),
               Catch::StartsWith("1 of 1 checks did not pass within the smoke_timeout of 2s: "
                                 "database failed: command always-fails exited 3: database down "
                                 "(attempt "));
    CHECK(s.at("rto_seconds").is_null());
    CHECK(rig.sim->HostPid() == 0);
  }
  {
    // An http check against nothing: could not run, so failed.
    Rig rig(RigOptions{.checks = "[[standby.check]]\nname = \"homepage\"\nkind = \"http\"\nurl "
                                 "= \"http://127.0.0.1:" +
                                 std::to_string(FreePort()) + "/\"\ntimeout = \"2s\"\n"});
    base::ProcessResult r = rig.Drill();
    CHECK(r.exit_code == 1);
    nlohmann::json s = nlohmann::json::parse(r.out);
    CHECK(s.at("checks").at(0).at("outcome") == "not_run");
    CHECK(s.at("reason").get<std::string>().find("homepage could not run: GET http://127.0.0.1:") !=
          std::string::npos);
  }
}

TEST_CASE(
    "drill e2e: a command not on the agent's allow-list fails at once, not at the "
    "smoke_timeout",
    "[drill][e2e]") {
  Rig rig(RigOptions{.checks = "[[standby.check]]\nname = \"database\"\nkind = "
                               "\"command\"\ncommand = \"not-allowed\"\n",
                     .smoke_timeout = "5m"});
  base::ProcessResult r = rig.Drill();
  CHECK(r.exit_code == 1);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("failed_phase") == "smoke");
  CHECK_THAT(s.at("reason").get<std::string>(),
             Catch::StartsWith("1 of 1 checks did not pass: database could not run: command "
                               "not-allowed could not run: "));
  CHECK_THAT(s.at("reason").get<std::string>(),
             Catch::EndsWith("allow-list; trying again cannot fix this"));
  for (const nlohmann::json& p : s.at("phases")) {
    if (p.at("name") == "smoke") CHECK(p.at("duration_ms").get<int64_t>() < 2'000);
  }
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE(
    "drill e2e: the TTL the zone's server (nsd) gives joins the RTO in the effective failover "
    "time, and a 4-hour TTL fails the drill at once",
    "[drill][e2e][dns]") {
  TempDir zone_dir;
  sb::testing::DnsServer nsd(zone_dir, "127.0.0.53", "example.test",
                             "$TTL 3600\n"
                             "@ IN SOA ns1.example.test. admin.example.test. ( 1 3600 600 86400 "
                             "60 )\n"
                             "@ IN NS ns1.example.test.\n"
                             "ns1 IN A 127.0.0.53\n"
                             "www 14400 IN A 192.0.2.10\n"
                             "api 60 IN A 192.0.2.20\n");
  Rig rig(RigOptions{.checks = "[[standby.check]]\nname = \"canary\"\nkind = \"canary\"\n"
                               "[[standby.check]]\nname = \"names\"\nkind = \"dns\"\nnames = "
                               "[\"api.example.test\"]\nserver = \"" +
                               nsd.endpoint() + "\"\n",
                     .smoke_timeout = "5m"});
  base::ProcessResult r = rig.Drill();
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("dns_ttl_seconds") == 60);
  CHECK(s.at("effective_failover_seconds").get<double>() ==
        Approx(s.at("rto_seconds").get<double>() + 60));
  CHECK(s.at("checks").at(0).at("detail").get<std::string>().find(
            "the standby's canary equals the backup's") == 0);
  CHECK(s.at("checks").at(1).at("measured").at("max_ttl_s") == 60);
  CHECK(rig.History().at(0).at("effective_failover_seconds") == s.at("effective_failover_seconds"));

  // The service's real name has a TTL of 4 hours: after a failover, clients
  // would keep going to the old address that long.
  std::string text = ReadWholeFile(rig.config);
  text.replace(text.find("api.example.test"), 16, "www.example.test");
  rig.dir.Write("standbyctl.toml", text);
  base::ProcessResult slow = rig.Drill();
  CHECK(slow.exit_code == 1);
  nlohmann::json f = nlohmann::json::parse(slow.out);
  CHECK(f.at("failed_phase") == "smoke");
  CHECK_THAT(f.at("reason").get<std::string>(),
             Catch::Contains("names failed: www.example.test: TTL 4h, above max_ttl 5m"));
  CHECK(f.at("dns_ttl_seconds") == 14'400);
  CHECK(f.at("effective_failover_seconds").is_null());
  for (const nlohmann::json& p : f.at("phases")) {
    if (p.at("name") == "smoke") CHECK(p.at("duration_ms").get<int64_t>() < 2'000);
  }
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("drill e2e: no checks configured fails at smoke with that reason", "[drill][e2e]") {
  Rig rig;
  std::string text = ReadWholeFile(rig.config);
  text.erase(text.find("[[standby.check]]"));
  rig.dir.Write("standbyctl.toml", text);
  base::ProcessResult r = rig.Drill();
  CHECK(r.exit_code == 1);
  nlohmann::json s = nlohmann::json::parse(r.out);
  CHECK(s.at("failed_phase") == "smoke");
  CHECK(s.at("reason") == "no checks configured");
  CHECK(rig.sim->HostPid() == 0);
}

// Starts a drill in the background with a source big enough to be mid-
// restore, and freezes the host's agent as soon as the restore starts.
std::unique_ptr<BackgroundProcess> DrillFrozenInRestore(Rig& rig) {
  // 40 MB in 400 files: the restore takes long enough to be caught in it.
  Sh("cd " + rig.source + " && for i in $(seq 1 400); do head -c 100000 /dev/urandom > f$i; done");
  std::unique_ptr<BackgroundProcess> drill = rig.StartDrill();
  REQUIRE(Eventually([&] { return rig.DrillSaid("] restore    ..."); }, 30));
  const int host = rig.sim->HostPid();
  REQUIRE(host > 0);
  ::kill(host, SIGSTOP);
  return drill;
}

TEST_CASE("drill e2e: a controller killed mid-restore is reconciled by the next command",
          "[drill][e2e]") {
  TempDir out;
  Rig rig(RigOptions{.controller = "on_failure = [\"/bin/sh\", \"-c\", \"echo "
                                   "$STANDBYCTL_DRILL_ID $STANDBYCTL_RESULT >> " +
                                   out.Sub("failures") + "\"]\n"});
  Sh("echo old > " + rig.target + "/old.txt");
  const std::vector<std::string> before = sb::testing::DescribeTree(rig.target);
  std::unique_ptr<BackgroundProcess> drill = DrillFrozenInRestore(rig);
  ::kill(drill->pid(), SIGKILL);
  drill->Stop();  // reaps it
  ::kill(rig.sim->HostPid(), SIGCONT);
  REQUIRE(rig.sim->HostPid() > 0);  // the standby is still on

  // Any command: here `history`.
  base::ProcessResult r = RunStandbyctl({"--config", rig.config, "history", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("drill 1: its controller (pid ") != std::string::npos);
  CHECK(r.err.find("confirmed off") != std::string::npos);
  CHECK(rig.sim->HostPid() == 0);
  nlohmann::json history = nlohmann::json::parse(r.out);
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("result") == "aborted");
  CHECK(history[0].at("failed_phase") == "restore");
  // The agent discarded the staged restore when the connection went away.
  CHECK(Eventually([&] { return sb::testing::DescribeTree(rig.target) == before; }, 5));
  // Reconciled once: the next command finds nothing to do.
  r = RunStandbyctl({"--config", rig.config, "history"});
  CHECK(r.err.find("its controller") == std::string::npos);
  // The aborted drill's end ran on_failure, once.
  CHECK(ReadWholeFile(out.Sub("failures")) == "1 aborted\n");
}

TEST_CASE("drill e2e: when the controller dies the lease runs out and the host shuts down",
          "[drill][e2e][lease]") {
  Rig rig;
  std::unique_ptr<BackgroundProcess> drill = DrillFrozenInRestore(rig);
  ::kill(drill->pid(), SIGKILL);
  drill->Stop();
  ::kill(rig.sim->HostPid(), SIGCONT);
  // Nobody renews: within the 10 s lease (plus slack) the agent shuts its host down.
  CHECK(Eventually([&] { return rig.sim->HostPid() == 0; }, 20));
  CHECK(rig.sim->HostLog().find("ran out: not renewed within 10s") != std::string::npos);
  // Then the next command closes the record; the standby was already off.
  base::ProcessResult r = RunStandbyctl({"--config", rig.config, "history", "--json"});
  CHECK(r.err.find("confirmed off") != std::string::npos);
  CHECK(nlohmann::json::parse(r.out)[0].at("result") == "aborted");
}

TEST_CASE("drill e2e: a second drill on the same standby is refused, and SIGTERM shuts down",
          "[drill][e2e]") {
  Rig rig(RigOptions{.agent_host = false, .host = "sleep 3600", .boot_timeout = "60s"});
  std::unique_ptr<BackgroundProcess> first = rig.StartDrill();
  REQUIRE(Eventually([&] { return rig.DrillSaid("] boot       ..."); }, 30));
  base::ProcessResult second = rig.Drill();
  CHECK(second.exit_code == 2);
  CHECK(second.err.find("standby web1-standby is busy: drill 1 is running (started ") !=
        std::string::npos);
  CHECK(rig.sim->HostPid() > 0);
  // SIGTERM: the first drill goes to its shutdown phase and ends off.
  ::kill(first->pid(), SIGTERM);
  const int status = first->Wait(std::chrono::seconds(60));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(rig.DrillSaid("aborted: stopped by SIGTERM"));
  CHECK(rig.sim->HostPid() == 0);
  nlohmann::json history = rig.History();
  REQUIRE(history.size() == 1);  // the refused attempt left no record
  CHECK(history[0].at("result") == "aborted");
  CHECK(history[0].at("failed_phase") == "boot");
}

}  // namespace
}  // namespace sb::drill

namespace sb::drill {
namespace {

// Adds a monthly schedule to the rig's config and stores a run of it that
// was due `late_ms` ago (the daemon was down).
void MissedMonthlyRun(Rig& rig, int64_t late_ms) {
  rig.dir.Write("standbyctl.toml", ReadWholeFile(rig.config) +
                                       "[[schedule]]\nname = \"monthly\"\nstandby = "
                                       "\"web1-standby\"\ncron = \"0 3 1 * *\"\ngrace = \"1d\"\n");
  Sh("mkdir -p -m 0700 " + rig.dir.Sub("state"));
  base::Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(store::StateStore::PathIn(rig.dir.Sub("state")));
  REQUIRE(store.ok());
  store::ScheduleStateRecord missed;
  missed.name = "monthly";
  missed.cron = "0 3 1 * *";
  missed.timezone = "UTC";
  missed.next_base_wall_ms = store::Timestamp::Now().wall_ms - late_ms;
  missed.next_due_wall_ms = missed.next_base_wall_ms;
  REQUIRE((*store)->PutScheduleState(missed).ok());
}

TEST_CASE("daemon e2e: a drill missed while the daemon was down is made up once",
          "[drill][e2e][daemon]") {
  Rig rig;
  MissedMonthlyRun(rig, int64_t{3'600'000});
  base::ProcessResult r = RunStandbyctl({"--config", rig.config, "daemon", "--once"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("schedule monthly: drill on web1-standby (made up: it was due at ") !=
        std::string::npos);
  CHECK(r.err.find("schedule monthly: drill 1 passed") != std::string::npos);
  nlohmann::json history = rig.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("trigger") == "schedule:monthly");
  CHECK(history[0].at("result") == "passed");
  CHECK(rig.sim->HostPid() == 0);
  // Made up once: the next run is next month's, and a second start runs nothing.
  r = RunStandbyctl({"--config", rig.config, "daemon", "--once"});
  CHECK(r.exit_code == 0);
  CHECK(rig.History().size() == 1);
  base::Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(store::StateStore::PathIn(rig.dir.Sub("state")));
  REQUIRE(store.ok());
  auto states = (*store)->ListScheduleStates();
  REQUIRE(states.ok());
  REQUIRE(states->size() == 1);
  CHECK((*states)[0].last_drill_id == 1);
  CHECK((*states)[0].next_due_wall_ms > store::Timestamp::Now().wall_ms);
}

TEST_CASE("daemon e2e: a run missed by more than its grace is skipped and said",
          "[drill][e2e][daemon]") {
  Rig rig;
  MissedMonthlyRun(rig, int64_t{3} * 86'400'000);
  base::ProcessResult r = RunStandbyctl({"--config", rig.config, "daemon", "--once"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("more than its grace of 1d: skipped") != std::string::npos);
  CHECK(rig.History().empty());
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("daemon e2e: SIGTERM lets the running drill shut its standby down first",
          "[drill][e2e][daemon]") {
  Rig rig(RigOptions{.agent_host = false, .host = "sleep 3600", .boot_timeout = "60s"});
  MissedMonthlyRun(rig, int64_t{60'000});
  BackgroundProcess daemon({STANDBYCTL_BIN, "--config", rig.config, "daemon"},
                           rig.dir.Sub("daemon.log"));
  // The drill powered the standby on and waits for an agent that never comes.
  REQUIRE(Eventually([&] { return rig.sim->HostPid() > 0; }, 30));
  ::kill(daemon.pid(), SIGTERM);
  const int status = daemon.Wait(std::chrono::seconds(60));
  INFO(ReadWholeFile(rig.dir.Sub("daemon.log")));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(rig.sim->HostPid() == 0);
  nlohmann::json history = rig.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("result") == "aborted");
  CHECK(history[0].at("reason").get<std::string>().find("stopped by SIGTERM") != std::string::npos);
}

TEST_CASE("daemon e2e: between drills the daemon keeps the metrics textfile current",
          "[drill][e2e][daemon]") {
  TempDir out;
  Rig rig(RigOptions{.controller = "metrics_dir = \"" + out.path() + "\"\n"});
  BackgroundProcess daemon({STANDBYCTL_BIN, "--config", rig.config, "daemon"},
                           rig.dir.Sub("daemon.log"));
  // No drill has run: the file says the standby was never verified.
  const std::string prom = out.Sub("standbyctl.prom");
  REQUIRE(Eventually([&] { return ::access(prom.c_str(), F_OK) == 0; }, 20));
  CHECK(ReadWholeFile(prom).find("standbyctl_verification_stale{standby=\"web1-standby\"} 1\n") !=
        std::string::npos);
  ::kill(daemon.pid(), SIGTERM);
  const int status = daemon.Wait(std::chrono::seconds(30));
  INFO(ReadWholeFile(rig.dir.Sub("daemon.log")));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("prep e2e: ready, held with its lease, extended, released, then off",
          "[drill][e2e][prep]") {
  Rig rig;
  base::ProcessResult r =
      RunStandbyctl({"--config", rig.config, "prep", "--standby", "web1-standby", "--hold", "1h"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("prep 1 on web1-standby: READY") != std::string::npos);
  CHECK(r.out.find("effective failover time now: ") != std::string::npos);
  CHECK(rig.sim->HostPid() > 0);  // left up on purpose
  // A drill meanwhile is refused: the hold has the standby.
  base::ProcessResult busy = rig.Drill();
  CHECK(busy.exit_code == 2);
  CHECK(busy.err.find("is busy: prep 1 is holding it") != std::string::npos);
  // The hold renews the lease (10 s): still up after 12 s.
  std::this_thread::sleep_for(std::chrono::seconds(12));
  CHECK(rig.sim->HostPid() > 0);
  base::ProcessResult status = RunStandbyctl({"--config", rig.config, "hold", "status", "--json"});
  REQUIRE(status.exit_code == 0);
  nlohmann::json holds = nlohmann::json::parse(status.out);
  REQUIRE(holds.size() == 1);
  CHECK(holds[0].at("holder_running") == true);
  const int64_t until = holds[0].at("until_ms").get<int64_t>();
  base::ProcessResult extend = RunStandbyctl(
      {"--config", rig.config, "hold", "extend", "--standby", "web1-standby", "--by", "30m"});
  CHECK(extend.exit_code == 0);
  status = RunStandbyctl({"--config", rig.config, "hold", "status", "--json"});
  CHECK(nlohmann::json::parse(status.out)[0].at("until_ms").get<int64_t>() == until + 1'800'000);
  base::ProcessResult release =
      RunStandbyctl({"--config", rig.config, "hold", "release", "--standby", "web1-standby"});
  INFO(release.out << release.err);
  CHECK(release.exit_code == 0);
  CHECK(release.out.find("prep 1 passed: held, then released by the operator") !=
        std::string::npos);
  CHECK(rig.sim->HostPid() == 0);
  nlohmann::json history = rig.History();
  REQUIRE(history.size() == 1);
  CHECK(history[0].at("kind") == "prep");
  CHECK(history[0].at("result") == "passed");
  CHECK(history[0].at("exposure_seconds").get<double>() >= 12);
  CHECK(history[0].at("rto_seconds").is_number());
}

TEST_CASE("prep e2e: a hold that runs out shuts the standby down", "[drill][e2e][prep]") {
  Rig rig;
  base::ProcessResult r = RunStandbyctl(
      {"--config", rig.config, "prep", "--standby", "web1-standby", "--hold", "2s", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out).at("ready") == true);
  CHECK(Eventually([&] { return rig.sim->HostPid() == 0; }, 20));
  CHECK(Eventually([&] { return rig.History()[0].at("result") == "passed"; }, 10));
  CHECK(rig.History()[0].at("reason") == "held, then the hold ran out");
  base::ProcessResult bad =
      RunStandbyctl({"--config", rig.config, "prep", "--standby", "web1-standby", "--hold", "3d"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("the hold must be between 1s and 24h") != std::string::npos);
  // A resync interval that is no interval, or not a duration.
  for (const char* resync : {"0s", "often"}) {
    base::ProcessResult r2 = RunStandbyctl(
        {"--config", rig.config, "prep", "--standby", "web1-standby", "--resync", resync});
    INFO(resync << ": " << r2.err);
    CHECK(r2.exit_code == 2);
    CHECK(r2.err.find("--resync") != std::string::npos);
  }
  base::ProcessResult extend = RunStandbyctl(
      {"--config", rig.config, "hold", "extend", "--standby", "web1-standby", "--resync", "0s"});
  CHECK(extend.exit_code == 2);
  CHECK(extend.err.find("the resync interval must be at least 1s") != std::string::npos);
}

TEST_CASE(
    "prep e2e: with the primary's agent down a prep is READY without the comparison; a "
    "drill is refused",
    "[drill][e2e][prep]") {
  Rig rig(RigOptions{.http = true, .primary_down = true});
  base::ProcessResult drill = rig.Drill();
  INFO(drill.out << drill.err);
  CHECK(drill.exit_code == 1);
  CHECK(nlohmann::json::parse(drill.out).at("failed_phase") == "preflight");
  CHECK(rig.sim->HostPid() == 0);  // never powered on

  base::ProcessResult r =
      RunStandbyctl({"--config", rig.config, "prep", "--standby", "web1-standby", "--hold", "5m"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("prep 2 on web1-standby: READY") != std::string::npos);
  CHECK(r.out.find("compare      ") != std::string::npos);
  CHECK(r.out.find("skipped: primary unreachable: ") != std::string::npos);
  CHECK(r.out.find("comparison with the primary: not made, the primary is unreachable") !=
        std::string::npos);
  CHECK(rig.sim->HostPid() > 0);
  base::ProcessResult release = RunStandbyctl(
      {"--config", rig.config, "hold", "release", "--standby", "web1-standby", "--json"});
  INFO(release.out << release.err);
  CHECK(release.exit_code == 0);
  nlohmann::json released = nlohmann::json::parse(release.out);
  CHECK(released.at("result") == "passed");
  CHECK(released.at("ended").is_string());
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("prep e2e: a hold is bounded by max_hold, and manual power and restore wait for it",
          "[drill][e2e][prep]") {
  Rig rig(RigOptions{.standby = "max_hold = \"1h\"\n"});
  auto standbyctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", rig.config});
    return RunStandbyctl(args);
  };
  base::ProcessResult r = standbyctl({"prep", "--standby", "web1-standby", "--hold", "2h"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "standbyctl: --hold 2h is longer than standby web1-standby's max_hold of 1h; "
        "hold at most that, or raise max_hold in " +
            rig.config + "\n");
  CHECK(rig.History().empty());  // refused: nothing ran, nothing recorded

  r = standbyctl({"prep", "--standby", "web1-standby", "--hold", "50m"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // Past the hour from the hold's start: refused, and says the limit.
  base::ProcessResult extend =
      standbyctl({"hold", "extend", "--standby", "web1-standby", "--by", "20m"});
  CHECK(extend.exit_code == 2);
  CHECK(extend.err.find("past its limit of") != std::string::npos);
  CHECK(extend.err.find("(the max_hold of 1h from the hold's start)") != std::string::npos);
  extend = standbyctl({"hold", "extend", "--standby", "web1-standby", "--by", "5m", "--json"});
  CHECK(extend.exit_code == 0);
  nlohmann::json hold = nlohmann::json::parse(extend.out);
  CHECK(hold.at("limit").is_string());
  CHECK(hold.at("released").is_null());

  // The hold has the standby: manual power and restore are refused...
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"power", "off", "--standby", "web1-standby"},
        std::vector<std::string>{"power", "soft-off", "--standby", "web1-standby"},
        std::vector<std::string>{"restore", "--standby", "web1-standby"},
        std::vector<std::string>{"restore", "-n", "--standby", "web1-standby"}}) {
    base::ProcessResult busy = standbyctl(args);
    INFO(args[0] << " " << args[1] << ": " << busy.err);
    CHECK(busy.exit_code == 2);
    CHECK(busy.err.find("standby web1-standby is busy: prep 1 is holding it") != std::string::npos);
    CHECK(busy.err.find("(--force goes on anyway)") != std::string::npos);
  }
  CHECK(rig.sim->HostPid() > 0);
  // ...while reading the power state is not.
  base::ProcessResult status = standbyctl({"power", "status", "--standby", "web1-standby"});
  CHECK(status.exit_code == 0);
  CHECK(status.out.starts_with("web1-standby: on"));
  // --force goes on, says so and leaves a warning on record.
  base::ProcessResult forced =
      standbyctl({"restore", "--standby", "web1-standby", "--force", "--json"});
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(forced.err.find("WARNING: standby web1-standby is busy: prep 1 is holding it") !=
        std::string::npos);
  CHECK(standbyctl({"hold", "release", "--standby", "web1-standby"}).exit_code == 0);
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE(
    "prep e2e: --resync brings a held standby current every interval; a failed round is "
    "retried without dropping the hold",
    "[drill][e2e][prep]") {
  Rig rig;
  auto standbyctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", rig.config});
    return RunStandbyctl(args);
  };
  base::ProcessResult r =
      standbyctl({"prep", "--standby", "web1-standby", "--hold", "5m", "--resync", "2s", "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out).at("hold_resync_seconds") == 2.0);
  auto last_round = [&]() -> nlohmann::json {
    base::ProcessResult s = standbyctl({"hold", "status", "--json"});
    REQUIRE(s.exit_code == 0);
    nlohmann::json holds = nlohmann::json::parse(s.out);
    REQUIRE(holds.size() == 1);
    return holds[0];
  };
  // The primary keeps writing: the next backup has a new page and a new file.
  const std::string now_s = std::to_string(::time(nullptr));
  Sh("cd " + rig.source + " && echo '<h1>Welcome to web1, v2</h1>' > index.html.tmp && mv " +
     "index.html.tmp index.html && echo new > orders.csv && echo " + now_s + " > .canary");
  REQUIRE(Eventually(
      [&] { return ReadWholeFile(rig.target + "/index.html") == "<h1>Welcome to web1, v2</h1>\n"; },
      30));
  CHECK(ReadWholeFile(rig.target + "/orders.csv") == "new\n");
  nlohmann::json held = last_round();
  INFO(held.dump(2));
  CHECK(held.at("resync_seconds") == 2.0);
  REQUIRE(held.at("last_round").is_object());
  // The round that carried the change says so (later ones changed nothing).
  CHECK(held.at("last_round").at("ok") == true);
  CHECK(held.at("rpo_seconds").get<double>() < 60);  // the canary written just now

  // The backup disappears (an unmounted disk): rounds fail, the hold stays.
  Sh("mv " + rig.source + " " + rig.source + ".away");
  REQUIRE(Eventually([&] { return last_round().at("last_round").at("ok") == false; }, 30));
  held = last_round();
  CHECK(held.at("last_round").at("detail").get<std::string>().find(rig.source) !=
        std::string::npos);
  CHECK(held.at("holder_running") == true);
  CHECK(rig.sim->HostPid() > 0);
  CHECK(ReadWholeFile(rig.target + "/index.html") == "<h1>Welcome to web1, v2</h1>\n");
  base::ProcessResult text = standbyctl({"hold", "status"});
  CHECK(text.out.find("FAILED") != std::string::npos);
  CHECK(text.out.find("  resync every 2s: ") != std::string::npos);
  // Back again: the next round succeeds.
  Sh("mv " + rig.source + ".away " + rig.source);
  REQUIRE(Eventually([&] { return last_round().at("last_round").at("ok") == true; }, 30));

  // --resync alone changes the interval, not the end.
  const std::string until = last_round().at("until");
  base::ProcessResult slower =
      standbyctl({"hold", "extend", "--standby", "web1-standby", "--resync", "1h", "--json"});
  CHECK(slower.exit_code == 0);
  CHECK(nlohmann::json::parse(slower.out).at("until") == until);
  CHECK(nlohmann::json::parse(slower.out).at("resync_seconds") == 3600.0);
  CHECK(standbyctl({"hold", "release", "--standby", "web1-standby"}).exit_code == 0);
  CHECK(rig.sim->HostPid() == 0);
  CHECK(rig.History()[0].at("result") == "passed");
}

TEST_CASE("power e2e: a manual power on warns that nothing guards the standby", "[drill][e2e]") {
  Rig rig;
  base::ProcessResult on =
      RunStandbyctl({"--config", rig.config, "power", "on", "--standby", "web1-standby"});
  INFO(on.err);
  CHECK(on.exit_code == 0);
  CHECK(on.err.find("WARNING: web1-standby stays up unguarded: no drill, no lease and no "
                    "max_exposure bound it") != std::string::npos);
  CHECK(rig.sim->HostPid() > 0);
  // On record, apart from any drill.
  CHECK(sb::testing::QueryText(rig.dir.Sub("state/state.db"),
                               "SELECT level || ': ' || message FROM events WHERE drill_id IS NULL")
            .starts_with("warn: standby web1-standby powered on by hand (standbyctl power on, "
                         "pid "));
  // A drill now finds it on and leaves it alone.
  base::ProcessResult drill = rig.Drill();
  CHECK(drill.exit_code == 1);
  CHECK(nlohmann::json::parse(drill.out).at("reason").get<std::string>().find(
            "the standby is already on") == 0);
  base::ProcessResult off =
      RunStandbyctl({"--config", rig.config, "power", "off", "--standby", "web1-standby"});
  CHECK(off.exit_code == 0);
  CHECK(rig.sim->HostPid() == 0);
}

TEST_CASE("hold: bad requests are refused with what was wrong", "[drill][prep]") {
  Rig rig;
  auto hold = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", rig.config, "hold"});
    return RunStandbyctl(args);
  };
  base::ProcessResult r = hold({"release", "--standby", "web1-standby"});
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "standbyctl: standby web1-standby is not held (standbyctl hold status lists "
        "holds)\n");
  r = hold({"extend", "--standby", "web1-standby", "--by", "soon"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--by: bad duration \"soon\"") != std::string::npos);
  r = hold({"serve", "--drill", "1", "--lock-fd", "99"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("hold serve needs the prep's lock (--lock-fd)") != std::string::npos);
  r = hold({"status"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "no standby is held\n");
  CHECK(rig.sim->HostPid() == 0);
}

}  // namespace
}  // namespace sb::drill
