// How a drill is shown. One JSON shape of a drill: the record's fields
// (`history --json` prints those), and for a drill just run (`drill --json`,
// `prep --json`) the same fields plus its details. And the summary a
// terminal shows at the end of `drill` and `prep`.
#ifndef STANDBY_CLI_DRILL_VIEW_H_
#define STANDBY_CLI_DRILL_VIEW_H_

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "standby/drill/drill.h"
#include "standby/store/state_store.h"

namespace sb::cli {

// id, standby, kind, trigger, started, finished, result, failed_phase,
// reason, the figures (rto_ms, boot_ms, restore_ms, rpo_ms, exposure_ms,
// null when not measured) and the footprint on the primary.
nlohmann::json DrillRecordJson(const store::DrillRecord& record);

// DrillRecordJson(record) and the summary's details: phases, checks,
// restores, probes, rpo_from, confirmed_off, off_steps, lease_renewals,
// ready; a held prep's result is "held".
nlohmann::json DrillSummaryJson(const store::DrillRecord& record, const drill::DrillSummary& s);

void PrintDrillSummary(const drill::DrillSummary& s, const std::string& store_path);

// The live view of a drill on stdout: each phase as it starts and ends, with
// the seconds since the view was made.
std::function<void(const drill::PhaseView&)> LivePhaseView();

}  // namespace sb::cli

#endif  // STANDBY_CLI_DRILL_VIEW_H_
