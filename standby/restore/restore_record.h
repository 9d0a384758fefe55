// What a configured restore mapping becomes: the RestoreSpec to run, and
// the statistics row the state store keeps of its report. Shared by
// `standbyctl restore` and the drill's restore phase. Pure functions.
#ifndef STANDBY_RESTORE_RESTORE_RECORD_H_
#define STANDBY_RESTORE_RESTORE_RECORD_H_

#include <optional>
#include <string>

#include "standby/config/config.h"
#include "standby/restore/restore_run.h"
#include "standby/store/state_store.h"

namespace sb::restore {

RestoreSpec SpecFor(const config::Config& config, const config::RestoreMapping& mapping);

store::RestoreStatsRecord StatsOf(const std::string& standby, const RestoreReport& report,
                                  std::optional<int64_t> drill_id, int64_t at_wall_ms);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_RESTORE_RECORD_H_
