// The standbyctl command line, run as a separate process the way users run it.

#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/subprocess.h"
#include "standby/store/state_store.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::cli {
namespace {

using sb::testing::RunStandbyctl;
using sb::testing::TempDir;

constexpr const char* kMinimalConfig =
    "[controller]\nstate_dir = \"state\"\n"
    "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.3\"\n"
    "power = { driver = \"command\", on = [\"true\"], off = [\"true\"], status = [\"true\"] }\n";

TEST_CASE("cli: --version prints the version and exits 0", "[cli]") {
  base::ProcessResult r = RunStandbyctl({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("standbyctl ") + STANDBY_VERSION + "\n");
}

TEST_CASE("cli: --help works on the program and on every subcommand", "[cli]") {
  const std::vector<std::vector<std::string>> commands = {{"--help"},
                                                          {"config", "--help"},
                                                          {"config", "check", "--help"},
                                                          {"history", "--help"},
                                                          {"history", "show", "--help"},
                                                          {"report", "--help"},
                                                          {"metrics", "--help"}};
  for (const auto& args : commands) {
    INFO(args[0] << " " << args.back());
    base::ProcessResult r = RunStandbyctl(args);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
  }
  base::ProcessResult top = RunStandbyctl({"--help"});
  CHECK(top.out.find("Exit codes: 0 success, 1 a drill or check failed, 2 usage or "
                     "configuration error, 3 internal error") != std::string::npos);
  CHECK(top.out.find("history") != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2 and say what was wrong", "[cli]") {
  struct Row {
    std::vector<std::string> args;
    const char* says;
  } rows[] = {
      {{}, "A subcommand is required"},
      {{"frobnicate"}, "unknown command \"frobnicate\"; run standbyctl --help"},
      {{"--log-format", "xml", "history"}, "xml"},
      {{"history", "--limit", "0"}, "--limit"},
      {{"config"}, "A subcommand is required"},
  };
  for (const Row& row : rows) {
    INFO(row.says);
    base::ProcessResult r = RunStandbyctl(row.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(row.says) != std::string::npos);
  }
}

TEST_CASE("cli: config check prints FILE:LINE:COL errors and exits 2", "[cli]") {
  TempDir dir;
  std::string path = dir.Write("bad.toml", "[[standby]]\nname = \"s\"\nagnet = \"h\"\n");
  base::ProcessResult r = RunStandbyctl({"config", "check", path});
  CHECK(r.exit_code == 2);
  CHECK(r.err == path + ":1:1: [standby[0]]: missing required key \"agent\"\n" + path +
                     ":1:1: [standby[0]]: missing required key \"power\"\n" + path +
                     ":3:1: [standby[0]]: unknown key \"agnet\" (did you mean \"agent\"?)\n");
  CHECK(r.out.empty());
}

TEST_CASE("cli: config check accepts a good file and summarizes it", "[cli]") {
  TempDir dir;
  std::string path = dir.Write("good.toml", kMinimalConfig);
  base::ProcessResult r = RunStandbyctl({"config", "check", path});
  CHECK(r.exit_code == 0);
  // The text is good; this machine has no certificates in the default place.
  CHECK(r.out == path +
                     ": ok with 1 warning (--strict makes them errors) (1 standby, 0 restore "
                     "mappings, 0 smoke checks, 0 probes, 0 schedules)\n");
  CHECK(r.err == path +
                     ":1:1: warning: [controller]: tls: [controller.tls] is not set and its "
                     "default /etc/standbyctl/pki/ca.crt cannot be read (No such file or "
                     "directory); create the files with standbyctl pki, or name them in "
                     "[controller.tls] ca, cert and key\n");
}

TEST_CASE("cli: config check --strict fails on what this machine lacks", "[cli]") {
  TempDir dir;
  dir.Write("ca.crt", "x");
  dir.Write("c.crt", "x");
  dir.Write("c.key", "x");
  const std::string good_tls =
      "[controller.tls]\nca = \"ca.crt\"\ncert = \"c.crt\"\nkey = \"c.key\"\n";
  std::string path = dir.Write(
      "c.toml",
      "[controller]\nstate_dir = \"state\"\n" + good_tls +
          "[[standby]]\nname = \"s\"\nagent = \"127.0.0.3\"\n"
          "[standby.power]\ndriver = \"command\"\non = [\"no-such-power-tool\", \"on\"]\n"
          "off = [\"/bin/true\"]\nstatus = [\"/nonexistent/virsh-status\"]\n"
          "[[standby.restore]]\nsource = \"/nonexistent/backups/*.tar\"\ntarget = \"/srv/www\"\n"
          "[[standby.restore]]\nsource = \"" +
          dir.Sub("absent") +
          "\"\ntarget = \"/srv/db\"\n"
          "[[standby]]\nname = \"t\"\nagent = \"127.0.0.4\"\n"
          "[standby.power]\ndriver = \"ipmi\"\nhost = \"127.0.0.1\"\nusername = \"u\"\n"
          "password_env = \"SB_TEST_UNSET_PASSWORD\"\n");
  const std::string expected =
      path +
      ":12:6: {}: standby[0].power.on: the program \"no-such-power-tool\" is not found on "
      "the PATH on this machine\n" +
      path +
      ":14:10: {}: standby[0].power.status: the program \"/nonexistent/virsh-status\" "
      "is not an executable file on this machine\n" +
      path +
      ":16:10: {}: standby[0].restore[0].source: \"/nonexistent/backups/*.tar\" "
      "matches nothing on this machine\n" +
      path + ":19:10: {}: standby[0].restore[1].source: \"" + dir.Sub("absent") +
      "\" does not exist on this machine\n" + path +
      ":28:16: {}: standby[1].power.password_env: the environment variable "
      "SB_TEST_UNSET_PASSWORD is not set here; commands that need it will refuse to run\n";
  auto with = [&](const std::string& level) {
    std::string out = expected;
    for (size_t at = out.find("{}"); at != std::string::npos; at = out.find("{}", at)) {
      out.replace(at, 2, level);
    }
    return out;
  };
  base::ProcessResult r = RunStandbyctl({"config", "check", path});
  CHECK(r.exit_code == 0);
  CHECK(r.err == with("warning"));
  CHECK(r.out.starts_with(path + ": ok with 5 warnings"));

  r = RunStandbyctl({"config", "check", "--strict", path});
  CHECK(r.exit_code == 2);
  CHECK(r.err == with("error") + path + ": 5 problems on this machine (--strict)\n");
  CHECK(r.out.empty());

  r = RunStandbyctl({"config", "check", "--strict", "--json", path});
  CHECK(r.exit_code == 2);
  nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j.at("ok") == false);
  CHECK(j.at("errors").size() == 5);
  CHECK(j.at("warnings").empty());

  // The same problem at use: an unset password variable is the caller's to
  // fix (exit 2), named with where it comes from.
  r = RunStandbyctl({"--config", path, "power", "status", "--standby", "t"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("environment variable SB_TEST_UNSET_PASSWORD (named by password_env) is not "
                   "set") != std::string::npos);
  // And the daemon does not start on it.
  r = RunStandbyctl({"--config", path, "daemon", "--once"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("the daemon does not start while this machine lacks what") != std::string::npos);
}

TEST_CASE("cli: a missing config file is a config error naming the file", "[cli]") {
  TempDir dir;
  base::ProcessResult r =
      RunStandbyctl({"history"}, {{"STANDBYCTL_CONFIG", dir.Sub("absent.toml")}});
  CHECK(r.exit_code == 2);
  CHECK(r.err == dir.Sub("absent.toml") +
                     ": cannot read config: No such file or directory\nhint: pass --config FILE "
                     "or set STANDBYCTL_CONFIG\n");
}

TEST_CASE("cli: history on an empty store says so", "[cli]") {
  TempDir dir;
  std::string config = dir.Write("c.toml", kMinimalConfig);
  base::ProcessResult r = RunStandbyctl({"--config", config, "history"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "no drills recorded yet (state store " + dir.Sub("state/state.db") + ")\n");
  base::ProcessResult json = RunStandbyctl({"--config", config, "history", "--json"});
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.out) == nlohmann::json::array());
}

TEST_CASE("cli: history lists recorded drills as a table and as JSON", "[cli]") {
  TempDir dir;
  std::string config = dir.Write("c.toml", kMinimalConfig);
  {
    std::filesystem::create_directories(dir.Sub("state"));
    auto store = std::move(*store::StateStore::Open(store::StateStore::PathIn(dir.Sub("state"))));
    store::DrillStart start;
    start.standby = "web1-standby";
    start.at = {1'793'502'000'000, 1};  // 2026-11-01 03:00:00 UTC
    int64_t passed = *store->BeginDrill(start);
    store::DrillOutcome ok;
    ok.at = {1'793'502'580'000, 2};
    ok.rto_ms = 372'000;
    ok.exposure_ms = 580'000;
    REQUIRE(store->FinishDrill(passed, ok).ok());
    start.at = {1'793'588'400'000, 3};  // a day later
    int64_t failed = *store->BeginDrill(start);
    store::DrillOutcome bad;
    bad.result = store::DrillResult::kFailed;
    bad.failed_phase = "smoke";
    bad.reason = "homepage returned 503";
    bad.at = {1'793'589'000'000, 4};
    REQUIRE(store->FinishDrill(failed, bad).ok());
  }
  base::ProcessResult r = RunStandbyctl({"--config", config, "history"});
  CHECK(r.exit_code == 0);
  CHECK(r.out ==
        "   ID  STANDBY              KIND   STARTED (UTC)        RESULT         RTO   EXPOSURE  "
        "REASON\n"
        "    2  web1-standby         drill  2026-11-02 03:00:00  failed           -          -  "
        "smoke: homepage returned 503\n"
        "    1  web1-standby         drill  2026-11-01 03:00:00  passed       6m12s      9m40s\n");

  base::ProcessResult json = RunStandbyctl({"--config", config, "history", "--json"});
  REQUIRE(json.exit_code == 0);
  nlohmann::json drills = nlohmann::json::parse(json.out);
  REQUIRE(drills.size() == 2);
  CHECK(drills[1]["result"] == "passed");
  CHECK(drills[1]["rto_seconds"] == 372);
  CHECK(drills[1]["started"] == "2026-11-01T03:00:00Z");
  CHECK(drills[1]["reason"].is_null());
  CHECK(drills[1]["failed_phase"].is_null());
  CHECK(drills[0]["failed_phase"] == "smoke");
  CHECK(drills[0]["rto_seconds"].is_null());

  base::ProcessResult other = RunStandbyctl({"--config", config, "history", "--standby", "other"});
  CHECK(other.out.starts_with("no drills recorded yet for standby other"));
}

TEST_CASE("cli: a corrupt state store is an internal error that touches nothing", "[cli]") {
  TempDir dir;
  std::string config = dir.Write("c.toml", kMinimalConfig);
  std::string db = dir.Write("state/state.db", std::string(4096, 'x'), 0600);
  base::ProcessResult r = RunStandbyctl({"--config", config, "history"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("state store " + db + " is not a usable SQLite database") != std::string::npos);
  CHECK(sb::testing::ReadWholeFile(db) == std::string(4096, 'x'));
}

TEST_CASE("cli: --log-format json writes one JSON object per log line", "[cli]") {
  TempDir dir;
  std::string config = dir.Write("c.toml", kMinimalConfig);
  base::ProcessResult r = RunStandbyctl(
      {"--config", config, "--log-format", "json", "--log-level", "debug", "history"});
  CHECK(r.exit_code == 0);
  REQUIRE_FALSE(r.err.empty());
  size_t lines = 0;
  for (size_t start = 0; start < r.err.size();) {
    size_t end = r.err.find('\n', start);
    nlohmann::json line = nlohmann::json::parse(r.err.substr(start, end - start));
    CHECK(line["program"] == "standbyctl");
    CHECK(line.contains("ts"));
    CHECK(line.contains("level"));
    CHECK(line.contains("msg"));
    ++lines;
    start = end + 1;
  }
  CHECK(lines >= 1);
}

TEST_CASE("cli: the bash completion completes commands, options, values and standbys", "[cli]") {
  TempDir dir;
  base::ProcessResult script = RunStandbyctl({"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  dir.Write("completion.bash", script.out);
  std::string config =
      dir.Write("c.toml", std::string(kMinimalConfig) +
                              "[[standby]]\nname = \"db-standby\"\nagent = \"127.0.0.4\"\n"
                              "power = { driver = \"command\", on = [\"true\"], off = [\"true\"], "
                              "status = [\"true\"] }\n");
  // What bash offers for the words typed so far (the last one being
  // completed), as it calls the function.
  auto complete = [&](const std::string& line) {
    base::ProcessSpec spec;
    spec.argv = {"bash", "--norc", "-c",
                 "source " + dir.Sub("completion.bash") +
                     " && read -ra COMP_WORDS <<< \"$LINE\" && "
                     "if [[ $LINE == *' ' ]]; then COMP_WORDS+=(''); fi && "
                     "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _standbyctl && "
                     "printf '%s\\n' \"${COMPREPLY[@]}\" | sort | tr '\\n' ' '"};
    spec.env = {{"LINE", line}};
    spec.timeout = std::chrono::seconds(10);
    base::Result<base::ProcessResult> r = base::RunProcess(spec);
    REQUIRE(r.ok());
    INFO(r->err);
    CHECK(r->exit_code == 0);
    return r->out;
  };
  CHECK(complete("standbyctl ho") == "hold ");
  CHECK(complete("standbyctl hold ") == "--help --help-all -h extend release status ");
  CHECK(complete("standbyctl hold extend --re") == "--resync ");
  CHECK(complete("standbyctl prep --") == "--help --help-all --hold --json --resync --standby ");
  CHECK(complete("standbyctl report --format ") == "csv html json text ");
  CHECK(complete("standbyctl --config " + config + " drill --standby ") ==
        "db-standby primary web1-standby ");
  CHECK(complete("standbyctl --config " + config + " agent ping --host we") == "web1-standby ");
  // An argument is not a command: `status` of `power status` is not `hold status`.
  CHECK(complete("standbyctl power status --st") == "--standby ");
  // The hidden `hold serve` is not offered.
  CHECK(complete("standbyctl hold s").find("serve") == std::string::npos);
}

}  // namespace
}  // namespace sb::cli
