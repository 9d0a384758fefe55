// The daemon's schedule keeping, without clocks or processes: given the
// config's schedules, what the state store remembers and the time now, it
// says which drills are due and when to look again. The daemon
// (cli/daemon_command.cc) supplies the clock, runs the drills and persists
// the states; tests drive it with any times they like.
//
// Rules:
//   - A schedule fires at its next cron time (in its time zone) plus a
//     random delay drawn once per run, uniform in [0, random_delay].
//   - A run that became due while no daemon was running (or while the clock
//     jumped) is made up once, at start-up or when noticed, if it is at most
//     `grace` late; an older one is skipped and reported. Either way the next
//     run is computed from now, so a long outage never causes a burst.
//   - A schedule whose cron or time zone changed in the config is
//     recomputed from now.
// One thread.
#ifndef STANDBY_SCHEDULE_SCHEDULER_H_
#define STANDBY_SCHEDULE_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/store/state_store.h"

namespace sb::schedule {

struct DueRun {
  std::string schedule;
  std::string standby;
  int64_t due_wall_ms = 0;
  bool late = false;  // made up after the daemon was down (within grace)
};

struct Tick {
  std::vector<DueRun> run;           // in due order
  std::vector<std::string> skipped;  // one sentence per skipped run
  std::vector<std::string> changed;  // schedules whose next time was (re)computed
};

class Scheduler {
 public:
  // `random_ms(max)` draws the delay; tests pass a fixed one.
  Scheduler(std::vector<config::Schedule> schedules, std::function<int64_t(int64_t)> random_ms);

  // Takes what the store remembers; schedules it does not know, or whose
  // cron or zone changed, start from `now`.
  base::Status Load(const std::vector<store::ScheduleStateRecord>& stored, int64_t now_ms);

  // The runs due at `now_ms` (each once), and the runs skipped as too late.
  // Their next times are computed already; Ran() records the drill.
  base::Result<Tick> Due(int64_t now_ms);

  // Records that `schedule`'s run made drill `drill_id` at `now_ms`.
  void Ran(const std::string& schedule, int64_t now_ms, std::optional<int64_t> drill_id);

  // The earliest next due time of all schedules (INT64_MAX without any).
  int64_t NextWake() const;

  const std::map<std::string, store::ScheduleStateRecord>& states() const { return states_; }

 private:
  base::Status Advance(const config::Schedule& schedule, int64_t after_ms);

  std::vector<config::Schedule> schedules_;
  std::function<int64_t(int64_t)> random_ms_;
  std::map<std::string, store::ScheduleStateRecord> states_;
};

}  // namespace sb::schedule

#endif  // STANDBY_SCHEDULE_SCHEDULER_H_
