// Cron expressions: the five classic fields (minute hour day-of-month month
// day-of-week) with lists, ranges, steps and names, plus @yearly, @monthly,
// @weekly, @daily and @hourly. Parsed into sets of allowed values. Values;
// thread-safe.

#ifndef STANDBY_SCHEDULE_CRON_H_
#define STANDBY_SCHEDULE_CRON_H_

#include <bitset>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::schedule {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31; bit 0 unused
  std::bitset<13> months;         // 1..12; bit 0 unused
  std::bitset<7> days_of_week;    // 0 = Sunday
  // As in Vixie cron: when both day fields are restricted, a day matches if
  // either matches; when one is "*", only the other counts.
  bool dom_restricted = false;
  bool dow_restricted = false;
};

// Errors name the field and the offending part: `hour: 24 is out of range
// 0-23`.
base::Result<CronSpec> ParseCron(std::string_view expression);

}  // namespace sb::schedule

#endif  // STANDBY_SCHEDULE_CRON_H_
