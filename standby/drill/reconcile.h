// Reconciliation: what every standbyctl command does first. A drill whose
// row says "running" while nobody holds its standby's lock was left behind
// by a controller that died (SIGKILL, a crash, a power cut). For each: the
// standby is powered off and confirmed off (graceful through its agent,
// then hard), its open phases are ended as aborted, and the drill is marked
// aborted with the reason. A standby that cannot be confirmed off keeps its
// drill "running", so the next command tries again, and is reported loudly.
#ifndef STANDBY_DRILL_RECONCILE_H_
#define STANDBY_DRILL_RECONCILE_H_

#include <string>
#include <vector>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/store/state_store.h"

namespace sb::drill {

struct Reconciled {
  int64_t drill_id = 0;
  std::string standby;
  bool confirmed_off = false;
  std::string message;             // one sentence for the operator
  std::vector<std::string> steps;  // what was done to power it off
};

// `command` names what found them ("standbyctl drill"), for the record.
base::Result<std::vector<Reconciled>> ReconcileDrills(const config::Config& config,
                                                      store::StateStore& store,
                                                      const std::string& command);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_RECONCILE_H_
