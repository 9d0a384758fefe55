// How a drill just run is shown: as JSON (`drill --json`, `prep --json`),
// the record's fields as `history --json` prints them
// (report::DrillRecordJson) plus its details; and the summary a terminal
// shows at the end of `drill` and `prep`.
#ifndef STANDBY_CLI_DRILL_VIEW_H_
#define STANDBY_CLI_DRILL_VIEW_H_

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "standby/drill/drill.h"
#include "standby/store/state_store.h"

namespace sb::cli {

// report::DrillRecordJson(record) and the summary's details: phases,
// checks, restores, probes, rpo_from, warnings, confirmed_off, off_steps,
// lease_renewals, ready and the hold (hold_until, RFC 3339, and
// hold_until_ms; null when not held); a held prep's result is "held".
nlohmann::json DrillSummaryJson(const store::DrillRecord& record, const drill::DrillSummary& s);

void PrintDrillSummary(const drill::DrillSummary& s, const std::string& store_path);

// The live view of a drill on stdout: each phase as it starts and ends, with
// the seconds since the view was made.
std::function<void(const drill::PhaseView&)> LivePhaseView();

}  // namespace sb::cli

#endif  // STANDBY_CLI_DRILL_VIEW_H_
