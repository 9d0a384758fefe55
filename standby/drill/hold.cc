#include "standby/drill/hold.h"

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"

namespace sb::drill {
namespace {

bool Stopped(const HoldOptions& options) {
  return options.stop != nullptr && options.stop->load() != 0;
}

// Why the hold must end now, or empty.
std::string WhyHoldEnds(const DrillEnv& env, const HoldOptions& options, store::Timestamp now) {
  if (Stopped(options))
    return fmt::format("the hold was stopped by signal {}", options.stop->load());
  base::Result<store::HoldRecord> hold = env.store.GetHold(options.drill_id);
  if (!hold.ok()) {
    return fmt::format("the hold's record could not be read: {}", hold.status().message());
  }
  if (hold->released_wall_ms) return "released by the operator";
  if (hold->limit_wall_ms && now.wall_ms >= *hold->limit_wall_ms) {
    return fmt::format("the hold reached the standby's max_hold of {}",
                       base::FormatDuration(env.standby.max_hold));
  }
  if (now.wall_ms >= hold->until_wall_ms) return "the hold ran out";
  return "";
}

}  // namespace

base::Result<HoldEnd> HoldStandby(const DrillEnv& env, const HoldOptions& options) {
  base::Result<store::HoldRecord> hold = env.store.GetHold(options.drill_id);
  if (!hold.ok()) return hold.status();
  base::Result<store::DrillRecord> drill = env.store.GetDrill(options.drill_id);
  if (!drill.ok()) return drill.status();
  if (drill->outcome.result != store::DrillResult::kRunning) {
    return base::Status::NotFound(fmt::format("prep {} of {} is not open in {}", options.drill_id,
                                              env.standby.name, env.store.path()));
  }
  base::Result<std::vector<store::PhaseRecord>> recorded = env.store.ListPhases(drill->id);
  if (!recorded.ok()) return recorded.status();

  HoldEnd end;
  Clock& clock = env.ports.clock;
  base::Status taken = env.ports.lease.Take(LeaseHolder(options.drill_id));
  if (!taken.ok()) {
    end.why = fmt::format("the hold could not take over the lease: {}", taken.message());
  } else {
    (void)env.store.SetHoldPid(options.drill_id, ::getpid());
    spdlog::info("holding {} for prep {} until {} (max_hold {})", env.standby.name,
                 options.drill_id, base::Rfc3339(hold->until_wall_ms),
                 base::FormatDuration(env.standby.max_hold));
  }
  // Bounded: by the hold's limit (max_hold from its start), whatever its
  // `until` says.
  while (end.why.empty()) {
    end.why = WhyHoldEnds(env, options, clock.Now());
    if (end.why.empty()) clock.Wait(options.poll, [&] { return Stopped(options); });
  }
  spdlog::info("hold of {} ends: {}", env.standby.name, end.why);
  env.ports.lease.StopRenewing();

  PhaseLog phases(env.store, clock, options.drill_id);
  Ending ending;
  ending.outcome = drill->outcome;  // the figures the prep recorded
  ending.outcome.result = store::DrillResult::kPassed;
  ending.outcome.reason = fmt::format("held, then {}", end.why);
  ending.power_on =
      PowerOnOf(*recorded);  // same boot: the monotonic clocks of the two processes agree
  SetExposureLimit(env.standby, /*held=*/true, &ending);
  ending.off = ShutDown(env, phases, options.off_poll, end.why);
  end.off = *ending.off;
  (void)env.store.EndHold(options.drill_id, end.off.at.wall_ms);
  base::Status s = FinishDrill(env.store, options.drill_id, ending, clock.Now(), &end.outcome);
  if (!s.ok()) spdlog::error("{}", s.message());
  return end;
}

}  // namespace sb::drill
