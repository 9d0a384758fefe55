#include "standby/schedule/cron.h"

#include <catch2/catch.hpp>

namespace sb::schedule {
namespace {

TEST_CASE("cron: macros expand to their five fields", "[cron]") {
  base::Result<CronSpec> monthly = ParseCron("@monthly");
  REQUIRE(monthly.ok());
  CHECK(monthly->minutes.count() == 1);
  CHECK(monthly->minutes.test(0));
  CHECK(monthly->hours.test(0));
  CHECK(monthly->days_of_month.count() == 1);
  CHECK(monthly->days_of_month.test(1));
  CHECK(monthly->months.count() == 12);
  CHECK(monthly->dom_restricted);
  CHECK_FALSE(monthly->dow_restricted);

  base::Result<CronSpec> weekly = ParseCron("@weekly");
  REQUIRE(weekly.ok());
  CHECK(weekly->days_of_week.count() == 1);
  CHECK(weekly->days_of_week.test(0));
}

TEST_CASE("cron: lists, ranges, steps and names", "[cron]") {
  base::Result<CronSpec> c = ParseCron("*/15 1-5/2 1,15 jan-mar mon-fri");
  REQUIRE(c.ok());
  CHECK(c->minutes.count() == 4);
  CHECK(c->minutes.test(45));
  CHECK(c->hours.count() == 3);  // 1, 3, 5
  CHECK(c->hours.test(3));
  CHECK_FALSE(c->hours.test(2));
  CHECK(c->days_of_month.count() == 2);
  CHECK(c->months.count() == 3);
  CHECK(c->months.test(3));
  CHECK(c->days_of_week.count() == 5);
  CHECK_FALSE(c->days_of_week.test(0));
}

TEST_CASE("cron: 7 is Sunday and a step from a start runs to the end", "[cron]") {
  base::Result<CronSpec> c = ParseCron("5/20 0 * * 7");
  REQUIRE(c.ok());
  CHECK(c->minutes.count() == 3);  // 5, 25, 45
  CHECK(c->days_of_week.count() == 1);
  CHECK(c->days_of_week.test(0));
}

TEST_CASE("cron: bad expressions name the field and the problem", "[cron]") {
  struct Row {
    const char* expr;
    const char* message;
  } rows[] = {
      {"60 * * * *", "minute: 60 is out of range 0-59"},
      {"* 24 * * *", "hour: 24 is out of range 0-23"},
      {"* * 0 * *", "day of month: 0 is out of range 1-31"},
      {"* * * 13 *", "month: 13 is out of range 1-12"},
      {"* * * * 8", "day of week: 8 is out of range 0-7"},
      {"* * * foo *", "month: \"foo\" is not a number"},
      {"5-1 * * * *", "minute: range \"5-1\" runs backwards"},
      {"*/0 * * * *", "minute: bad step \"0\""},
      {"1,,2 * * * *", "minute: empty list element in \"1,,2\""},
      {"* * * *",
       "\"* * * *\" has 4 fields; expected 5 (minute hour day-of-month month "
       "day-of-week)"},
      {"@often",
       "unknown schedule \"@often\" (use @yearly, @monthly, @weekly, @daily, @hourly "
       "or five cron fields)"},
  };
  for (const Row& r : rows) {
    INFO(r.expr);
    base::Result<CronSpec> c = ParseCron(r.expr);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message() == r.message);
  }
}

}  // namespace
}  // namespace sb::schedule
