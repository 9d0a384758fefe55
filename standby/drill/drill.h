// The drill: power a cold standby on, bring it current, check it, compare it
// with the primary, power it off, and record all of it.
//
//   preflight -> power on -> boot -> lease -> restore -> smoke -> compare
//             -> shutdown (always, once power on was requested)
//
// Each phase is written to the state store when it starts and when it ends
// (drill_end.h), so a crash leaves an exact record for reconciliation
// (reconcile.h). Once power on has been requested, every way out goes
// through the shutdown phase: a failed phase, the standby's max_exposure
// deadline, or a stop request (SIGINT/SIGTERM, set by the caller in `stop`).
// A deadline or stop breaks the drill's connection to the agent so that a
// restore in progress ends at once (the agent discards its staging: the
// target keeps its old state). The end is drill_end.h's.
//
// Every side effect goes through DrillEnv: its ports (ports.h), the power
// driver and the host agent. The caller holds the standby's DrillLock.
// RunDrill blocks; it starts the guard's watcher thread (guard.h).
#ifndef STANDBY_DRILL_DRILL_H_
#define STANDBY_DRILL_DRILL_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "standby/drill/compare.h"
#include "standby/drill/drill_end.h"
#include "standby/restore/restore_run.h"
#include "standby/store/state_store.h"

namespace sb::drill {

enum class DrillKind {
  kDrill,
  // Failover prep: when every phase up to compare passed, the standby is
  // left up (DrillSummary::held) instead of being shut down.
  kPrep,
};
std::string_view DrillKindName(DrillKind kind);  // "drill", "prep"

struct DrillSummary {
  int64_t drill_id = 0;
  std::string standby;
  DrillKind kind = DrillKind::kDrill;
  store::DrillOutcome outcome;  // as recorded (a held prep: the figures so far)
  std::vector<PhaseView> phases;
  std::vector<store::CheckResultRecord> checks;
  std::vector<restore::RestoreReport> restores;
  std::vector<ProbeSummary> probes;
  bool powered_on = false;             // power on was requested
  bool confirmed_off = false;          // the shutdown confirmed the standby off
  std::vector<std::string> off_steps;  // how
  std::string rpo_from;                // what the RPO was measured from
  // Why the primary's agent did not answer in the preflight, when the drill
  // went on without it ([primary] required_for_*): no comparison was made.
  std::string primary_unreachable;
  // What the operator should act on although the drill may pass (a
  // certificate of the channel expiring within 30 days).
  std::vector<std::string> warnings;
  int lease_renewals = 0;
  // A prep that passed: the standby is up, the lease no longer renewed by
  // this process, and the record still open for a hold (hold.h) to finish.
  bool held = false;
  std::string hold_log;  // set by `standbyctl prep` once the hold runs
  int64_t hold_until_wall_ms = 0;
  int64_t hold_resync_ms = 0;  // 0: no resync
};

struct DrillOptions {
  DrillKind kind = DrillKind::kDrill;
  std::string trigger = "manual";  // or "schedule:NAME"
  // Set (to the signal number) by the caller's signal handling.
  const std::atomic<int>* stop = nullptr;
  // Called from the drill's thread as each phase starts and ends.
  std::function<void(const PhaseView&)> on_phase;
  // Each restore's progress (restore_run.h), from the drill's thread.
  std::function<void(const restore::RestoreProgress&)> on_restore_progress;
  // Polling while waiting for the agent to come up and for power off.
  std::chrono::milliseconds poll_interval{2'000};
};

// The name a drill holds the agent's lease under (a prep's hold renews it).
std::string LeaseHolder(int64_t drill_id);

// Runs the drill. Fails only when the drill could not be recorded at all
// (the store refused its first row); every other failure is in the summary.
base::Result<DrillSummary> RunDrill(const DrillEnv& env, const DrillOptions& options);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_DRILL_H_
