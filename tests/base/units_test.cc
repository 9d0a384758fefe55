#include "agent/base/units.h"

#include <catch2/catch.hpp>

namespace sb::base {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("units: durations parse in every unit and in combination", "[units]") {
  struct Row {
    const char* text;
    Duration want;
  } rows[] = {
      {"0s", seconds(0)},
      {"500ms", milliseconds(500)},
      {"30s", seconds(30)},
      {"45m", minutes(45)},
      {"2h", hours(2)},
      {"3d", hours(72)},
      {"1h30m", minutes(90)},
      {"1m30s", seconds(90)},
      {"1d2h3m4s5ms", milliseconds(93784005)},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    Result<Duration> d = ParseDuration(r.text);
    REQUIRE(d.ok());
    CHECK(*d == r.want);
  }
}

TEST_CASE("units: bad durations say what was expected", "[units]") {
  struct Row {
    const char* text;
    const char* message;
  } rows[] = {
      {"", "empty duration; expected a duration like \"30s\", \"45m\" or \"1h30m\""},
      {"-5m", "duration \"-5m\" is negative"},
      {"10", "duration \"10\" has a number without a unit (ms, s, m, h, d)"},
      {"2w", "duration \"2w\" has unknown unit \"w\" (use ms, s, m, h or d)"},
      {"m", "bad duration \"m\"; expected a duration like \"30s\", \"45m\" or \"1h30m\""},
      {"1.5h", "duration \"1.5h\" has a number without a unit (ms, s, m, h, d)"},
      {"99999999999999999999s",
       "bad duration \"99999999999999999999s\"; expected a duration like \"30s\", \"45m\" or "
       "\"1h30m\""},
      {"40000d", "duration \"40000d\" is longer than 100 years"},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    Result<Duration> d = ParseDuration(r.text);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().message() == r.message);
  }
}

TEST_CASE("units: durations format back to a short exact form", "[units]") {
  CHECK(FormatDuration(milliseconds(120)) == "120ms");
  CHECK(FormatDuration(seconds(5)) == "5s");
  CHECK(FormatDuration(milliseconds(2500)) == "2.5s");
  CHECK(FormatDuration(minutes(90)) == "1h30m");
  CHECK(FormatDuration(hours(49)) == "2d1h");
  CHECK(FormatDuration(seconds(3723)) == "1h2m3s");
}

TEST_CASE("units: sizes parse binary and decimal units", "[units]") {
  CHECK(*ParseSize("0") == 0);
  CHECK(*ParseSize("4096") == 4096);
  CHECK(*ParseSize("512B") == 512);
  CHECK(*ParseSize("64KiB") == 64UL * 1024);
  CHECK(*ParseSize("2GiB") == (uint64_t{2} << 30));
  CHECK(*ParseSize("1TiB") == (uint64_t{1} << 40));
  CHECK(*ParseSize("10MB") == 10'000'000);
  CHECK(*ParseSize("3 kB") == 3000);
}

TEST_CASE("units: bad sizes are refused with the reason", "[units]") {
  CHECK(ParseSize("-1GiB").status().message() == "size \"-1GiB\" is negative");
  CHECK(ParseSize("GiB").status().message() ==
        "bad size \"GiB\"; expected a size like \"512MiB\" or \"2GiB\"");
  CHECK(ParseSize("2gb").status().message() ==
        "size \"2gb\" has unknown unit \"gb\" (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)");
  CHECK(ParseSize("1.5GiB").status().message() ==
        "bad size \"1.5GiB\"; expected a size like \"512MiB\" or \"2GiB\"");
  CHECK(ParseSize("20000000TiB").status().message() == "size \"20000000TiB\" is too large");
}

TEST_CASE("units: sizes format with a binary unit", "[units]") {
  CHECK(FormatSize(512) == "512 B");
  CHECK(FormatSize(1536) == "1.5 KiB");
  CHECK(FormatSize(uint64_t{2} << 30) == "2.0 GiB");
}

}  // namespace
}  // namespace sb::base
