// Failover prep's hold: after `standbyctl prep` has brought a standby up,
// current and checked, a hold keeps it up until its time runs out, it
// reaches the standby's max_hold, or an operator releases it (`standbyctl
// hold release`), renewing the agent's lease all the while and, with
// --resync, restoring the newest backup again every interval; then it shuts
// the standby down and confirms it off, recorded as the prep's shutdown
// phase, and finishes the prep's record.
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
// drill is not in the store. With the hold's resync_ms set, it brings the
// standby current again every that often (ResyncRound).
base::Result<HoldEnd> HoldStandby(const DrillEnv& env, const HoldOptions& options);

// One round of a hold's resync, as the first story's operator did by hand
// while the standby waited to take over: each mapping restored from the
// newest backup, all or nothing and verified, as the drill's restore phase
// does (drift recorded, statistics not: they would count as the prep's
// restore). Recorded in the store and logged. A failed round (a source that
// cannot be read or is dated ahead, the agent, a refused restore,
// corruption at rest) stops at the failure, each target holding what its
// last committed restore left, and the hold goes on to the next interval.
store::HoldRoundRecord ResyncRound(const DrillEnv& env, int64_t drill_id, int64_t round);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_HOLD_H_
