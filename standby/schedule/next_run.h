// When a cron schedule fires next, in a time zone: the first minute strictly
// after a given instant whose local time (in `timezone`, an IANA name from
// /usr/share/zoneinfo) matches the spec. Daylight saving time follows what
// a wall clock does:
//   - a local time that happens twice (the hour repeated when clocks go
//     back) fires once, at its first occurrence;
//   - a local time that does not happen (the hour skipped when clocks go
//     forward) fires when the clock has jumped over it, shifted by the jump
//     (02:30 on the night clocks go from 02:00 to 03:00 fires at 03:30).
// Thread-safe: the zone switch (TZ, tzset) is done under a process-wide
// mutex, and restored afterwards.
#ifndef STANDBY_SCHEDULE_NEXT_RUN_H_
#define STANDBY_SCHEDULE_NEXT_RUN_H_

#include <cstdint>
#include <string>

#include "agent/base/status.h"
#include "standby/schedule/cron.h"

namespace sb::schedule {

// Unix milliseconds of the next run after `after_ms`. kNotFound when the spec
// never matches within 8 years (such as "0 0 31 2 *").
base::Result<int64_t> NextRun(const CronSpec& spec, const std::string& timezone, int64_t after_ms);

// "2026-12-01 03:00 CET" for logs and messages.
std::string FormatLocal(int64_t wall_ms, const std::string& timezone);

}  // namespace sb::schedule

#endif  // STANDBY_SCHEDULE_NEXT_RUN_H_
