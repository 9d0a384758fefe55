// `standbyctl check` and `standbyctl canary write`, run as a user runs them.

#include <cstdlib>
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "standby/restore/source_age.h"
#include "standby/store/state_store.h"
#include "tests/support/background_process.h"
#include "tests/support/standbyctl_runner.h"
#include "tests/support/temp_dir.h"

namespace sb::cli {
namespace {

using sb::testing::RunStandbyctl;
using sb::testing::TempDir;

TEST_CASE("cli: check runs each check once against a standby that is up", "[cli][checks]") {
  TempDir dir;
  dir.Write("www/index.html", "<h1>Welcome</h1>\n");
  const int port = sb::testing::FreePort();
  sb::testing::BackgroundProcess server(
      {"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
       dir.Sub("www"), std::to_string(port)},
      dir.Sub("http.log"));
  REQUIRE(sb::testing::WaitForPort("127.0.0.1", port));
  const std::string config = dir.Write(
      "standbyctl.toml",
      "[controller]\nstate_dir = \"state\"\n"
      "[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.1:" +
          std::to_string(sb::testing::FreePort()) +
          "\"\n"
          "power = { driver = \"command\", on = [\"true\"], off = [\"true\"], status = "
          "[\"true\"] }\n"
          "[[standby.check]]\nname = \"homepage\"\nkind = \"http\"\nurl = \"http://{host}:" +
          std::to_string(port) +
          "/index.html\"\nbody_regex = \"Welcome\"\n"
          "[[standby.check]]\nname = \"db\"\nkind = \"command\"\ncommand = \"check-db\"\n");

  base::ProcessResult all =
      RunStandbyctl({"--config", config, "check", "--standby", "web1-standby"});
  INFO(all.out << all.err);
  CHECK(all.exit_code == 1);
  CHECK(all.out.find("homepage             http     passed") != std::string::npos);
  // The agent does not answer: the command check could not run, and says why.
  CHECK(all.out.find("db                   command  not_run") != std::string::npos);
  CHECK(all.out.find("no connection to the standby's agent: ") != std::string::npos);
  CHECK(all.out.find("web1-standby: 1 of 2 checks passed") != std::string::npos);

  base::ProcessResult one = RunStandbyctl(
      {"--config", config, "check", "--standby", "web1-standby", "--check", "homepage", "--json"});
  CHECK(one.exit_code == 0);
  nlohmann::json j = nlohmann::json::parse(one.out);
  CHECK(j["passed"] == true);
  REQUIRE(j["checks"].size() == 1);
  CHECK(j["checks"][0]["measured"]["status"] == 200);

  base::ProcessResult unknown =
      RunStandbyctl({"--config", config, "check", "--standby", "web1-standby", "--check", "nope"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("has no check named \"nope\"") != std::string::npos);
  base::ProcessResult nobody = RunStandbyctl({"--config", config, "check", "--standby", "web2"});
  CHECK(nobody.exit_code == 2);
}

TEST_CASE("cli: canary write puts the backup's time in its top directory, atomically",
          "[cli][canary]") {
  TempDir dir;
  dir.Write("backup/www/index.html", "x\n");
  base::ProcessResult r =
      RunStandbyctl({"canary", "write", dir.Sub("backup/www"), "--time", "2026-12-01T03:00:00Z"});
  CHECK(r.exit_code == 0);
  base::Result<std::string> text = base::ReadFile(dir.Sub("backup/www/.backup-canary"));
  REQUIRE(text.ok());
  CHECK(*text == "2026-12-01T03:00:00Z\n");
  CHECK(restore::ParseCanaryTime(*text).ok());

  base::ProcessResult now =
      RunStandbyctl({"canary", "write", dir.Sub("backup/www"), "--name", ".canary"});
  CHECK(now.exit_code == 0);
  base::Result<std::string> fresh = base::ReadFile(dir.Sub("backup/www/.canary"));
  REQUIRE(fresh.ok());
  base::Result<int64_t> at = restore::ParseCanaryTime(*fresh);
  REQUIRE(at.ok());
  CHECK(std::abs(*at - store::Timestamp::Now().wall_ms) < 5'000);

  struct Row {
    std::vector<std::string> args;
    const char* says;
  } rows[] = {
      {{"canary", "write", dir.Sub("missing")}, "is not a directory"},
      {{"canary", "write", dir.Sub("backup/www"), "--time", "yesterday"}, "is not a time"},
      {{"canary", "write", dir.Sub("backup/www"), "--name", "../x"}, "must be a file name"},
      {{"canary"}, "A subcommand is required"},
  };
  for (const Row& row : rows) {
    INFO(row.says);
    base::ProcessResult bad = RunStandbyctl(row.args);
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find(row.says) != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(dir.Sub("backup/x")));
}

}  // namespace
}  // namespace sb::cli
