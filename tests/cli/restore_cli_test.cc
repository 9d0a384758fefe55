// `standbyctl restore [--dry-run]` end to end: a backup source on the
// controller's side, a target under a real agent's data root, the plan
// between them.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/base/subprocess.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/standbyctl_runner.h"

namespace sb::cli {
namespace {

using sb::testing::RunOrFail;
using sb::testing::RunStandbyctl;
using sb::testing::TempDir;
using sb::testing::TestAgent;
using sb::testing::TestPki;

TEST_CASE("cli: restore --dry-run plans a directory and an archive source", "[cli][restore]") {
  TestPki pki;
  TempDir dir;
  std::string big(200'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 % 253);
  // Last month's backup, already on the standby (copied by the real rsync).
  dir.Write("old/index.html", "<h1>v1</h1>\n");
  dir.Write("old/same.txt", "unchanged\n");
  dir.Write("old/db/data.bin", big);
  dir.Write("old/stale.log", "gone next time\n");
  RunOrFail({"rsync", "-a", dir.Sub("old") + "/", dir.Sub("target") + "/"});
  // This month's backup: one small edit, one byte in a large file, a new
  // file, a new directory and symlink, and one file removed.
  RunOrFail({"rsync", "-a", dir.Sub("old") + "/", dir.Sub("src") + "/"});
  dir.Write("src/index.html", "<h1>v2</h1>\n");
  big[100'000] ^= 1;
  dir.Write("src/db/data.bin", big);
  dir.Write("src/new.txt", "new\n");
  dir.Write("src/assets/logo.svg", "<svg/>\n");
  RunOrFail({"ln", "-s", "index.html", dir.Sub("src/home.html")});
  RunOrFail({"rm", dir.Sub("src/stale.log")});
  RunOrFail({"tar", "-C", dir.Sub("src"), "--zstd", "-cf", dir.Sub("backup.tar.zst"), "."});

  TestAgent agent(pki, agent::Role::kStandby, std::chrono::seconds(30), {dir.Sub("target")});
  auto config_for = [&](const std::string& source) {
    return sb::testing::WriteRestoreConfig(dir, pki, agent.port(), source, dir.Sub("target"));
  };
  for (const std::string& source : {dir.Sub("src"), dir.Sub("backup.tar.zst")}) {
    INFO(source);
    std::string config = config_for(source);
    base::ProcessResult r = RunStandbyctl(
        {"--config", config, "restore", "--standby", "web1-standby", "--dry-run", "--json"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    nlohmann::json plan = nlohmann::json::parse(r.out)[0];
    const nlohmann::json& t = plan["totals"];
    CHECK(t["whole_file"]["count"] == 1);  // index.html: small
    CHECK(t["delta"]["count"] == 1);       // db/data.bin: large
    CHECK(t["delta"]["bytes"] == 200'000);
    CHECK(t["new"]["count"] == 2);        // new.txt, assets/logo.svg
    CHECK(t["directory"]["count"] == 1);  // assets
    CHECK(t["symlink"]["count"] == 1);    // home.html
    CHECK(t["delete"]["count"] == 1);     // stale.log
    CHECK(t["unchanged"]["count"] == 2);  // same.txt, and db/ (its mtime did not move)
  }

  // The text form lists the changes with --list.
  std::string config = config_for(dir.Sub("src"));
  base::ProcessResult text = RunStandbyctl(
      {"--config", config, "restore", "--standby", "web1-standby", "--dry-run", "--list"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("  delta                 1  195.3 KiB") != std::string::npos);
  CHECK(text.out.find("  delete         stale.log") != std::string::npos);

  // The dry runs changed nothing; without --dry-run the plan is carried out.
  CHECK(*base::ReadFile(dir.Sub("target/index.html")) == "<h1>v1</h1>\n");
  base::ProcessResult apply =
      RunStandbyctl({"--config", config, "restore", "--standby", "web1-standby"});
  INFO(apply.err);
  REQUIRE(apply.exit_code == 0);
  CHECK(apply.out.find("(equal to the source's; the target's side hashes files not re-read "
                       "from the cache, see \"read\")") != std::string::npos);
  // The target had no restore before: nothing could be read back against it.
  CHECK(apply.out.find("  read    nothing re-read: the agent has no record of a previous "
                       "restore\n") != std::string::npos);
  CHECK(*base::ReadFile(dir.Sub("target/index.html")) == "<h1>v2</h1>\n");
}

}  // namespace
}  // namespace sb::cli
