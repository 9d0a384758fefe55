#include "standby/drill/hold.h"

#include <unistd.h>

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"
#include "standby/drill/lease_keeper.h"

namespace sb::drill {
base::Result<HoldEnd> HoldStandby(const DrillEnv& env, const HoldOptions& options) {
  base::Result<store::HoldRecord> hold = env.store.GetHold(options.drill_id);
  if (!hold.ok()) return hold.status();
  base::Result<store::DrillRecord> drill = env.store.GetDrill(options.drill_id);
  if (!drill.ok()) return drill.status();
  if (drill->outcome.result != store::DrillResult::kRunning) {
    return base::Status::NotFound(fmt::format("prep {} of {} is not open in {}", options.drill_id,
                                              env.standby.name, env.store.path()));
  }
  base::Result<std::vector<store::PhaseRecord>> phases = env.store.ListPhases(drill->id);
  if (!phases.ok()) return phases.status();
  std::optional<store::Timestamp> power_on;
  for (const store::PhaseRecord& p : *phases) {
    if (p.name == "power on") power_on = p.started;
  }

  HoldEnd end;
  LeaseKeeper lease({env.standby.agent, env.standby.agent_name}, env.tls,
                    LeaseHolder(options.drill_id), env.standby.lease);
  base::Status taken = lease.Start();
  if (!taken.ok()) {
    end.why = fmt::format("the hold could not take over the lease: {}", taken.message());
  } else {
    (void)env.store.SetHoldPid(options.drill_id, ::getpid());
    spdlog::info("holding {} for prep {} until {} UTC", env.standby.name, options.drill_id,
                 hold->until_wall_ms);
  }
  // Bounded: the hold's time is capped when it is set (kMaxHold).
  while (end.why.empty()) {
    if (options.stop != nullptr && options.stop->load() != 0) {
      end.why = fmt::format("the hold was stopped by signal {}", options.stop->load());
      break;
    }
    base::Result<store::HoldRecord> now = env.store.GetHold(options.drill_id);
    if (!now.ok()) {
      end.why = fmt::format("the hold's record could not be read: {}", now.status().message());
      break;
    }
    if (now->released_wall_ms) {
      end.why = "released by the operator";
      break;
    }
    if (store::Timestamp::Now().wall_ms >= now->until_wall_ms) {
      end.why = "the hold ran out";
      break;
    }
    std::this_thread::sleep_for(options.poll);
  }
  spdlog::info("hold of {} ends: {}", env.standby.name, end.why);
  lease.Stop(false);

  const store::Timestamp started = store::Timestamp::Now();
  base::Result<int64_t> phase = env.store.BeginPhase(options.drill_id, "shutdown", started);
  end.off = ConfirmOff(env, DrillOptions().poll_interval);
  if (phase.ok()) {
    (void)env.store.EndPhase(
        *phase, end.off.confirmed ? store::PhaseOutcome::kPassed : store::PhaseOutcome::kFailed,
        end.why + "; " + end.off.reason, end.off.at);
  }
  (void)env.store.EndHold(options.drill_id, end.off.at.wall_ms);
  store::DrillOutcome outcome = drill->outcome;  // the figures the prep recorded
  outcome.at = end.off.at;
  if (power_on) {
    // Same boot, so the monotonic clocks of the two processes agree.
    end.exposure_ms = (end.off.at.mono_ns - power_on->mono_ns) / 1'000'000;
    if (end.off.confirmed) outcome.exposure_ms = end.exposure_ms;
  }
  if (end.off.confirmed) {
    outcome.result = store::DrillResult::kPassed;
    outcome.reason = fmt::format("held, then {}", end.why);
  } else {
    outcome.result = store::DrillResult::kFailed;
    outcome.failed_phase = "shutdown";
    outcome.reason = fmt::format("{}; THE STANDBY MAY STILL BE ON: {}", end.why, end.off.reason);
  }
  base::Status s = env.store.FinishDrill(options.drill_id, outcome);
  if (!s.ok())
    spdlog::error("could not record the end of prep {}: {}", options.drill_id, s.message());
  return end;
}

}  // namespace sb::drill
