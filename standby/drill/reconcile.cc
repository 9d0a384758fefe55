#include "standby/drill/reconcile.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"
#include "standby/drill/drill_end.h"
#include "standby/drill/drill_lock.h"
#include "standby/power/agent_link.h"
#include "standby/power/confirmed_off.h"

namespace sb::drill {
namespace {

// Ends what the dead controller left open and marks the drill aborted
// (drill_end.h: with the exposure window when `off` confirmed the standby
// off, the loud failure when power on was requested and it did not).
base::Status MarkAborted(store::StateStore& store, const store::DrillRecord& drill,
                         const config::StandbyConfig* standby, const std::string& reason,
                         std::optional<OffResult> off) {
  base::Result<std::vector<store::PhaseRecord>> phases = store.ListPhases(drill.id);
  if (!phases.ok()) return phases.status();
  const store::Timestamp now = store::Timestamp::Now();
  Ending ending;
  ending.outcome.result = store::DrillResult::kAborted;
  ending.outcome.reason = reason;
  // Another process, maybe another boot: only the wall clocks compare.
  ending.same_boot = false;
  ending.off = std::move(off);
  ending.power_on = PowerOnOf(*phases);
  if (standby != nullptr) SetExposureLimit(*standby, store.GetHold(drill.id).ok(), &ending);
  for (const store::PhaseRecord& p : *phases) {
    if (p.outcome != store::PhaseOutcome::kRunning) continue;
    ending.outcome.failed_phase = p.name;
    base::Status s = store.EndPhase(p.id, store::PhaseOutcome::kAborted,
                                    "the controller stopped during this phase", now);
    if (!s.ok()) return s;
  }
  if (ending.outcome.failed_phase.empty() && !phases->empty()) {
    ending.outcome.failed_phase = phases->back().name;
  }
  store::DrillOutcome recorded;
  return FinishDrill(store, drill.id, ending, now, &recorded);
}

// Powers `standby` off (graceful, then hard) and confirms it.
base::Result<power::OffReport> ConfirmStandbyOff(const config::Config& config,
                                                 const config::StandbyConfig& standby) {
  power::AgentLink agent({standby.agent, standby.agent_name}, config.controller.tls);
  base::Result<std::unique_ptr<power::PowerDriver>> driver =
      power::MakePowerDriver(standby, &agent);
  if (!driver.ok()) return driver.status();
  return power::PowerOffConfirmed(**driver, agent, power::OffOptionsFor(standby));
}

}  // namespace

base::Result<std::vector<Reconciled>> ReconcileDrills(const config::Config& config,
                                                      store::StateStore& store,
                                                      const std::string& command) {
  store::DrillQuery query;
  query.limit = 1000;
  base::Result<std::vector<store::DrillRecord>> drills = store.ListDrills(query);
  if (!drills.ok()) return drills.status();
  std::vector<Reconciled> out;
  for (const store::DrillRecord& drill : *drills) {
    if (drill.outcome.result != store::DrillResult::kRunning) continue;
    // A live controller holds the lock: its drill is not ours to touch.
    base::Result<std::unique_ptr<DrillLock>> lock =
        DrillLock::TryAcquire(config.controller.state_dir, drill.start.standby);
    if (!lock.ok()) continue;
    Reconciled r;
    r.drill_id = drill.id;
    r.standby = drill.start.standby;
    const std::string who =
        fmt::format("its controller (pid {}) stopped without finishing it; found by {}",
                    drill.start.controller_pid, command);
    const config::StandbyConfig* standby = config.FindStandby(drill.start.standby);
    if (standby == nullptr) {
      r.message =
          fmt::format("drill {}: {}; standby {} is no longer in {}, so its power state is unknown",
                      drill.id, who, drill.start.standby, config.path);
      base::Status s = MarkAborted(store, drill, nullptr, r.message, std::nullopt);
      if (!s.ok()) return s;
      out.push_back(std::move(r));
      continue;
    }
    spdlog::warn("drill {} on {}: {}; making sure the standby is off", drill.id, standby->name,
                 who);
    base::Result<power::OffReport> off = ConfirmStandbyOff(config, *standby);
    if (!off.ok()) {
      r.message = fmt::format(
          "drill {}: {}; the standby {} could NOT be confirmed off ({}); the drill stays open "
          "and the next standbyctl command tries again",
          drill.id, who, standby->name, off.status().message());
      (void)store.AddEvent(drill.id, "error", r.message, store::Timestamp::Now().wall_ms);
      out.push_back(std::move(r));
      continue;
    }
    r.confirmed_off = true;
    r.steps = off->steps;
    r.message = fmt::format("drill {}: {}; standby {} confirmed off ({}); marked aborted", drill.id,
                            who, standby->name, off->confirmed.how);
    base::Status s =
        MarkAborted(store, drill, standby, r.message, OffResultOf(off, store::Timestamp::Now()));
    if (!s.ok()) return s;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sb::drill
