// Failover prep's hold: after `standbyctl prep` has brought a standby up,
// current and checked, a hold keeps it up until its time runs out or an
// operator releases it (`standbyctl hold release`), renewing the agent's
// lease all the while; then it shuts the standby down and confirms it off,
// recorded as the prep's shutdown phase, and finishes the prep's record.
//
// The hold runs in its own process (`standbyctl hold serve`), which inherits
// the standby's drill lock from the prep, so no other drill and no
// reconciliation touches the standby while it is held. If that process dies,
// the lease runs out and the standby shuts itself down; the next standbyctl
// command reconciles the record.
#ifndef STANDBY_DRILL_HOLD_H_
#define STANDBY_DRILL_HOLD_H_

#include <atomic>
#include <chrono>
#include <string>

#include "standby/drill/drill.h"

namespace sb::drill {

struct HoldOptions {
  int64_t drill_id = 0;
  const std::atomic<int>* stop = nullptr;  // a signal ends the hold early
  std::chrono::milliseconds poll{1'000};   // how often the store is read
  std::chrono::milliseconds off_poll = DrillOptions().poll_interval;  // during the shutdown
};

struct HoldEnd {
  std::string why;  // "released by the operator", "the hold ran out", ...
  OffResult off;
  store::DrillOutcome outcome;  // as recorded
};

// Holds the standby, then shuts it down; fails only when the hold or the
// drill is not in the store.
base::Result<HoldEnd> HoldStandby(const DrillEnv& env, const HoldOptions& options);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_HOLD_H_
