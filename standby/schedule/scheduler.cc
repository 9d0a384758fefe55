#include "standby/schedule/scheduler.h"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "agent/base/units.h"
#include "standby/schedule/cron.h"
#include "standby/schedule/next_run.h"

namespace sb::schedule {

Scheduler::Scheduler(std::vector<config::Schedule> schedules,
                     std::function<int64_t(int64_t)> random_ms)
    : schedules_(std::move(schedules)), random_ms_(std::move(random_ms)) {}

base::Status Scheduler::Advance(const config::Schedule& s, int64_t after_ms) {
  base::Result<CronSpec> spec = ParseCron(s.cron);
  if (!spec.ok()) return spec.status();
  base::Result<int64_t> next = NextRun(*spec, s.timezone, after_ms);
  if (!next.ok()) {
    return base::Status(next.status().code(), fmt::format("schedule {} (\"{}\"): {}", s.name,
                                                          s.cron, next.status().message()));
  }
  store::ScheduleStateRecord& st = states_[s.name];
  st.name = s.name;
  st.cron = s.cron;
  st.timezone = s.timezone;
  st.next_base_wall_ms = *next;
  const int64_t max_delay = s.random_delay.count();
  st.next_due_wall_ms =
      *next + (max_delay > 0 ? std::clamp<int64_t>(random_ms_(max_delay), 0, max_delay) : 0);
  return base::Status::Ok();
}

base::Status Scheduler::Load(const std::vector<store::ScheduleStateRecord>& stored,
                             int64_t now_ms) {
  std::map<std::string, const store::ScheduleStateRecord*> by_name;
  for (const store::ScheduleStateRecord& r : stored) by_name[r.name] = &r;
  for (const config::Schedule& s : schedules_) {
    auto it = by_name.find(s.name);
    if (it != by_name.end() && it->second->cron == s.cron && it->second->timezone == s.timezone) {
      states_[s.name] = *it->second;
      continue;
    }
    base::Status made = Advance(s, now_ms);
    if (!made.ok()) return made;
  }
  return base::Status::Ok();
}

base::Result<Tick> Scheduler::Due(int64_t now_ms) {
  Tick tick;
  for (const config::Schedule& s : schedules_) {
    store::ScheduleStateRecord& st = states_[s.name];
    if (st.next_due_wall_ms > now_ms) continue;
    const int64_t late_ms = now_ms - st.next_due_wall_ms;
    if (late_ms > s.grace.count()) {
      tick.skipped.push_back(fmt::format(
          "schedule {}: the run due at {} is {} late, more than its grace of {}: skipped", s.name,
          FormatLocal(st.next_due_wall_ms, s.timezone),
          base::FormatDuration(base::Duration(late_ms)), base::FormatDuration(s.grace)));
    } else {
      // Late by more than a minute: the daemon was down or the clock jumped.
      tick.run.push_back({s.name, s.standby, st.next_due_wall_ms, late_ms > 60'000});
    }
    base::Status next = Advance(s, now_ms);
    if (!next.ok()) return next;
    tick.changed.push_back(s.name);
  }
  std::sort(tick.run.begin(), tick.run.end(),
            [](const DueRun& a, const DueRun& b) { return a.due_wall_ms < b.due_wall_ms; });
  return tick;
}

void Scheduler::Ran(const std::string& schedule, int64_t now_ms, std::optional<int64_t> drill_id) {
  store::ScheduleStateRecord& st = states_[schedule];
  st.last_run_wall_ms = now_ms;
  st.last_drill_id = drill_id;
}

int64_t Scheduler::NextWake() const {
  int64_t wake = INT64_MAX;
  for (const auto& [name, st] : states_) wake = std::min(wake, st.next_due_wall_ms);
  return wake;
}

}  // namespace sb::schedule
