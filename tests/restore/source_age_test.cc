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

}  // namespace
}  // namespace sb::restore
