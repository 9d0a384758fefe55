// Next-run times across month ends, leap years and DST changes, in several
// time zones (the system's tzdata).

#include "standby/schedule/next_run.h"

#include <ctime>

#include <catch2/catch.hpp>

namespace sb::schedule {
namespace {

// "2026-02-01T03:00Z" as Unix milliseconds.
int64_t Utc(const std::string& iso) {
  std::tm tm{};
  REQUIRE(::strptime(iso.c_str(), "%Y-%m-%dT%H:%M", &tm) != nullptr);
  return int64_t{::timegm(&tm)} * 1000;
}

struct Case {
  const char* cron;
  const char* zone;
  const char* after;  // UTC
  const char* next;   // UTC
  const char* why;
};

TEST_CASE("next run: month ends, leap years, DST changes and zones", "[schedule]") {
  const Case cases[] = {
      {"0 3 1 * *", "UTC", "2026-01-31T12:00", "2026-02-01T03:00", "over a month end"},
      {"0 3 1 * *", "Europe/Berlin", "2026-11-22T00:00", "2026-12-01T02:00", "CET is UTC+1"},
      {"0 3 1 * *", "Europe/Berlin", "2026-06-22T00:00", "2026-07-01T01:00", "CEST is UTC+2"},
      {"0 0 29 2 *", "UTC", "2025-03-01T00:00", "2028-02-29T00:00", "the next leap day"},
      {"0 12 31 * *", "UTC", "2026-04-01T00:00", "2026-05-31T12:00", "April has no 31st"},
      {"30 2 * * *", "Europe/Berlin", "2027-03-27T12:00", "2027-03-28T01:30",
       "02:30 skipped by the spring change runs at 03:30 CEST"},
      {"30 2 * * *", "Europe/Berlin", "2027-10-30T12:00", "2027-10-31T00:30",
       "02:30 repeated in autumn runs at its first occurrence (CEST)"},
      {"30 2 * * *", "Europe/Berlin", "2027-10-31T00:30", "2027-11-01T01:30",
       "and not again at its second occurrence"},
      {"@monthly", "America/New_York", "2026-12-31T12:00", "2027-01-01T05:00",
       "midnight in New York over a year end"},
      {"@weekly", "UTC", "2026-11-22T00:00", "2026-11-29T00:00",
       "Sunday 2026-11-22 00:00 is not after itself"},
      {"0 9 13 * 5", "UTC", "2026-11-01T00:00", "2026-11-06T09:00",
       "both day fields: either matches (a Friday before the 13th)"},
      {"*/15 * * * *", "UTC", "2026-11-22T10:07", "2026-11-22T10:15", "steps"},
      {"59 23 31 12 *", "UTC", "2026-12-31T23:59", "2027-12-31T23:59", "strictly after"},
      {"0 4 * * 1-5", "Australia/Sydney", "2026-11-20T20:00", "2026-11-22T17:00",
       "Monday 04:00 AEDT (UTC+11) is Sunday 17:00 UTC"},
  };
  for (const Case& c : cases) {
    INFO(c.cron << " in " << c.zone << " after " << c.after << ": " << c.why);
    base::Result<CronSpec> spec = ParseCron(c.cron);
    REQUIRE(spec.ok());
    base::Result<int64_t> next = NextRun(*spec, c.zone, Utc(c.after));
    REQUIRE(next.ok());
    CHECK(FormatLocal(*next, "UTC") == FormatLocal(Utc(c.next), "UTC"));
  }
}

TEST_CASE("next run: a schedule that never fires says so", "[schedule]") {
  base::Result<CronSpec> spec = ParseCron("0 0 31 2 *");
  REQUIRE(spec.ok());
  base::Result<int64_t> next = NextRun(*spec, "UTC", Utc("2026-01-01T00:00"));
  CHECK(next.status().code() == base::Code::kNotFound);
  CHECK(next.status().message() == "the schedule never fires within 8 years");
}

TEST_CASE("next run: the process's own zone is left as it was", "[schedule]") {
  ::setenv("TZ", "Asia/Tokyo", 1);
  ::tzset();
  base::Result<CronSpec> spec = ParseCron("0 3 * * *");
  REQUIRE(spec.ok());
  REQUIRE(NextRun(*spec, "Europe/Berlin", Utc("2026-01-01T00:00")).ok());
  time_t t = 0;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  CHECK(tm.tm_hour == 9);  // Tokyo is UTC+9
  CHECK(FormatLocal(Utc("2026-12-01T02:00"), "Europe/Berlin") == "2026-12-01 03:00 CET");
  ::unsetenv("TZ");
  ::tzset();
}

}  // namespace
}  // namespace sb::schedule
