// A backup's age for the RPO: canary texts good and bad, a missing canary,
// canaries inside GNU tar archives, and directories without one.

#include "standby/restore/source_age.h"

#include <catch2/catch.hpp>

#include "tests/support/backup_tree.h"
#include "tests/support/temp_dir.h"

namespace sb::restore {
namespace {

using sb::testing::Sh;
using sb::testing::TempDir;

TEST_CASE("canary: Unix seconds and UTC ISO times are read; anything else is refused",
          "[source_age]") {
  CHECK(*ParseCanaryTime("1700000000\n") == int64_t{1700000000} * 1000);
  CHECK(*ParseCanaryTime("  2026-11-22T10:00:00Z  ") == int64_t{1795341600} * 1000);
  CHECK(*ParseCanaryTime("2026-11-22T10:00:00+00:00") == int64_t{1795341600} * 1000);
  for (const char* bad : {"", "yesterday", "2026-11-22T10:00:00", "2026-11-22T10:00:00+01:00",
                          "2026-13-40T99:00:00Z", "1700000000000000"}) {
    INFO(bad);
    base::Result<int64_t> r = ParseCanaryTime(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == base::Code::kInvalidArgument);
    CHECK_THAT(r.status().message(),
               Catch::EndsWith("is not a time (expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ)"));
  }
}

TEST_CASE("source age: from the canary, the archive's time or the newest file", "[source_age]") {
  TempDir dir;
  Sh("mkdir -p " + dir.Sub("b/sub") + " && cd " + dir.Sub("b") +
     " && echo 1700000000 > .canary && echo x > sub/f && touch -d @1600000000 .canary sub/f sub . "
     "&& touch -d @1650000000 sub/f && tar -cf " +
     dir.Sub("b.tar") +
     " . && touch -d "
     "@1690000000 " +
     dir.Sub("b.tar"));
  config::RestoreMapping m;
  m.source = dir.Sub("b");
  m.canary = ".canary";
  base::Result<SourceAge> age = ReadSourceAge(m);
  REQUIRE(age.ok());
  CHECK(age->newest_wall_ms == int64_t{1700000000} * 1000);
  CHECK(age->from == "canary .canary");
  m.source = dir.Sub("b.tar");
  age = ReadSourceAge(m);
  REQUIRE(age.ok());
  CHECK(age->newest_wall_ms == int64_t{1700000000} * 1000);
  m.canary.clear();
  age = ReadSourceAge(m);
  REQUIRE(age.ok());
  CHECK(age->from == "archive time");
  CHECK(age->newest_wall_ms == int64_t{1690000000} * 1000);
  m.source = dir.Sub("b");
  age = ReadSourceAge(m);
  REQUIRE(age.ok());
  CHECK(age->from == "newest file");
  CHECK(age->newest_wall_ms == int64_t{1650000000} * 1000);
}

TEST_CASE("source age: a missing or unreadable canary names the canary and the source",
          "[source_age]") {
  TempDir dir;
  Sh("mkdir -p " + dir.Sub("b") + " && echo 'last tuesday' > " + dir.Sub("b/.canary") +
     " && tar -cf " + dir.Sub("b.tar") + " -C " + dir.Sub("b") + " .");
  config::RestoreMapping m;
  m.source = dir.Sub("b");
  m.canary = "no-such-canary";
  base::Result<SourceAge> age = ReadSourceAge(m);
  REQUIRE_FALSE(age.ok());
  CHECK_THAT(age.status().message(),
             Catch::StartsWith("canary no-such-canary of " + dir.Sub("b") + ": "));
  m.source = dir.Sub("b.tar");
  age = ReadSourceAge(m);
  REQUIRE_FALSE(age.ok());
  CHECK(age.status().message() == "canary no-such-canary of " + dir.Sub("b.tar") + ": " +
                                      dir.Sub("b.tar") + " has no file no-such-canary");
  m.canary = ".canary";
  age = ReadSourceAge(m);
  REQUIRE_FALSE(age.ok());
  CHECK(age.status().message() ==
        "canary .canary of " + dir.Sub("b.tar") +
            ": \"last tuesday\" is not a time (expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  m.source = dir.Sub("missing");
  CHECK_FALSE(ReadSourceAge(m).ok());
}

TEST_CASE("source age: a backup dated in the future is refused; max_age is checked",
          "[source_age]") {
  config::RestoreMapping m;
  m.source = "/backups/www";
  const int64_t now = 1'796'083'200'000;  // 2026-12-01T00:00:00Z
  SourceAge canary{now + 86'400'000, "canary .canary", ""};
  base::Status s = CheckSourceAge(m, canary, now);
  CHECK(s.code() == base::Code::kFailedPrecondition);
  CHECK(s.message() ==
        "backup /backups/www is dated 1d in the future (canary .canary), more than the 5m two "
        "clocks may differ: its age is unknown, so max_age and the RPO cannot be checked; check "
        "the clock of the host that wrote it and the canary's text");
  // A little ahead is a clock's difference, not an error.
  CHECK(CheckSourceAge(m, {now + 120'000, "newest file", ""}, now).ok());
  m.max_age = std::chrono::hours(26);
  CHECK(CheckSourceAge(m, {now - 3'600'000, "newest file", ""}, now).ok());
  s = CheckSourceAge(m, {now - 27 * 3'600'000L, "archive time", ""}, now);
  CHECK(s.message() ==
        "backup /backups/www is 1d3h old (archive time), older than its max_age of 1d2h");
}

}  // namespace
}  // namespace sb::restore
