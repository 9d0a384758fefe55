// What follows the end of every drill and prep, whichever process ends it
// (`drill`, `prep`, the hold's `hold serve`; the daemon's drills are `drill`
// children): one log line saying how it ended (an error naming the standby,
// the phase and the reason when it did not pass, so `journalctl -p err`
// and log alerts catch it), the metrics textfile rewritten when
// `metrics_dir` is set, and the `on_failure` command when it failed or was
// aborted. Failures here are logged, never change the drill's outcome.
#ifndef STANDBY_CLI_AFTER_DRILL_H_
#define STANDBY_CLI_AFTER_DRILL_H_

#include <cstdint>

#include "standby/config/config.h"
#include "standby/store/state_store.h"

namespace sb::cli {

void AfterDrill(const config::Config& config, store::StateStore& store, int64_t drill_id);

// Rewrites METRICS_DIR/standbyctl.prom when `metrics_dir` is set (the daemon
// calls it between drills too, so ages and staleness keep moving); logs a
// failure.
void RefreshMetrics(const config::Config& config, store::StateStore& store);

}  // namespace sb::cli

#endif  // STANDBY_CLI_AFTER_DRILL_H_
