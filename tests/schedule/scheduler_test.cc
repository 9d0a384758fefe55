// The daemon's schedule keeping with an injected clock: first start, due
// runs, missed runs within and beyond grace, changed schedules, and a
// restart that reads the state back from a real state store.

#include "standby/schedule/scheduler.h"

#include <ctime>

#include <catch2/catch.hpp>

#include "standby/schedule/next_run.h"
#include "tests/support/temp_dir.h"

namespace sb::schedule {
namespace {

int64_t Utc(const std::string& iso) {
  std::tm tm{};
  REQUIRE(::strptime(iso.c_str(), "%Y-%m-%dT%H:%M", &tm) != nullptr);
  return int64_t{::timegm(&tm)} * 1000;
}

config::Schedule Monthly(std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
  config::Schedule s;
  s.name = "monthly";
  s.standby = "web1-standby";
  s.cron = "0 3 1 * *";
  s.timezone = "Europe/Berlin";
  s.random_delay = delay;
  s.grace = std::chrono::hours(72);
  return s;
}

// Half the allowed delay, every time.
int64_t Half(int64_t max) { return max / 2; }

TEST_CASE("scheduler: first start, a due run, and no second run for the same time", "[schedule]") {
  Scheduler s({Monthly(std::chrono::minutes(20))}, Half);
  REQUIRE(s.Load({}, Utc("2026-11-22T10:00")).ok());
  // 1 December 03:00 CET = 02:00 UTC, plus 10 of the 20 minutes.
  CHECK(s.NextWake() == Utc("2026-12-01T02:10"));
  base::Result<Tick> early = s.Due(Utc("2026-12-01T02:09"));
  REQUIRE(early.ok());
  CHECK(early->run.empty());
  base::Result<Tick> due = s.Due(Utc("2026-12-01T02:10"));
  REQUIRE(due.ok());
  REQUIRE(due->run.size() == 1);
  CHECK(due->run[0].standby == "web1-standby");
  CHECK_FALSE(due->run[0].late);
  s.Ran("monthly", Utc("2026-12-01T02:10"), 7);
  CHECK(s.states().at("monthly").last_drill_id == 7);
  CHECK(s.NextWake() == Utc("2027-01-01T02:10"));
  base::Result<Tick> again = s.Due(Utc("2026-12-01T02:11"));
  REQUIRE(again.ok());
  CHECK(again->run.empty());
}

TEST_CASE("scheduler: a run missed while down is made up once within grace, else skipped",
          "[schedule]") {
  store::ScheduleStateRecord was;
  was.name = "monthly";
  was.cron = "0 3 1 * *";
  was.timezone = "Europe/Berlin";
  was.next_base_wall_ms = Utc("2026-12-01T02:00");
  was.next_due_wall_ms = Utc("2026-12-01T02:00");
  {
    // Back two days later (grace 3 days): one late run now, next from now.
    Scheduler s({Monthly()}, Half);
    REQUIRE(s.Load({was}, Utc("2026-12-03T08:00")).ok());
    base::Result<Tick> t = s.Due(Utc("2026-12-03T08:00"));
    REQUIRE(t.ok());
    REQUIRE(t->run.size() == 1);
    CHECK(t->run[0].late);
    CHECK(t->run[0].due_wall_ms == Utc("2026-12-01T02:00"));
    CHECK(s.NextWake() == Utc("2027-01-01T02:00"));
  }
  {
    // Back five months later: skipped, said, and no burst of missed runs.
    Scheduler s({Monthly()}, Half);
    REQUIRE(s.Load({was}, Utc("2027-05-10T08:00")).ok());
    base::Result<Tick> t = s.Due(Utc("2027-05-10T08:00"));
    REQUIRE(t.ok());
    CHECK(t->run.empty());
    REQUIRE(t->skipped.size() == 1);
    CHECK(t->skipped[0] ==
          "schedule monthly: the run due at 2026-12-01 03:00 CET is 160d6h late, more than its "
          "grace of 3d: skipped");
    CHECK(s.NextWake() == Utc("2027-06-01T01:00"));  // CEST
  }
}

TEST_CASE("scheduler: an edited schedule is recomputed; state survives a restart", "[schedule]") {
  testing::TempDir dir;
  base::Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(store::StateStore::PathIn(dir.path()));
  REQUIRE(store.ok());
  {
    Scheduler s({Monthly(std::chrono::minutes(20))}, Half);
    REQUIRE(s.Load({}, Utc("2026-11-22T10:00")).ok());
    for (const auto& [name, st] : s.states()) REQUIRE((*store)->PutScheduleState(st).ok());
  }
  base::Result<std::vector<store::ScheduleStateRecord>> saved = (*store)->ListScheduleStates();
  REQUIRE(saved.ok());
  REQUIRE(saved->size() == 1);
  {
    // A restart keeps the drawn delay: a different draw would show.
    Scheduler s({Monthly(std::chrono::minutes(20))}, [](int64_t) { return int64_t{0}; });
    REQUIRE(s.Load(*saved, Utc("2026-11-23T10:00")).ok());
    CHECK(s.NextWake() == Utc("2026-12-01T02:10"));
  }
  {
    config::Schedule weekly = Monthly();
    weekly.cron = "@weekly";
    weekly.timezone = "UTC";
    Scheduler s({weekly}, Half);
    REQUIRE(s.Load(*saved, Utc("2026-11-23T10:00")).ok());
    CHECK(s.NextWake() == Utc("2026-11-29T00:00"));
  }
}

}  // namespace
}  // namespace sb::schedule
