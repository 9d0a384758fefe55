// A Report (report.h) as text for a terminal, JSON, CSV or one
// self-contained HTML file (report_html.cc); and one drill in full
// (`history show`).
//
// JSON and CSV are for programs: their field names are stable and
// documented in docs/report.md (snake_case; times RFC 3339 UTC; durations
// in seconds with a `_seconds` suffix; null, or an empty CSV field, for
// what was not measured).
#ifndef STANDBY_REPORT_REPORT_RENDER_H_
#define STANDBY_REPORT_REPORT_RENDER_H_

#include <string>

#include <nlohmann/json.hpp>

#include "standby/report/report.h"

namespace sb::report {

std::string RenderText(const Report& report);
nlohmann::json ReportJson(const Report& report);
std::string RenderCsv(const Report& report);
std::string RenderHtml(const Report& report);

// A drill's drift counts in words, by kind in drift.h's order ("2
// modified, 1 planted"), or "-".
std::string DriftWords(const DrillDetails& d);

// A drill's record, the fields `history --json`, `drill --json` and
// `history show --json` start with: id, standby, kind, trigger, started,
// finished, result, failed_phase and reason (null when none), the figures in
// seconds and the footprint on the primary.
nlohmann::json DrillRecordJson(const store::DrillRecord& record);

// A text field of the JSON: null when it is empty (nothing to say).
nlohmann::json TextOrNull(const std::string& text);

// One drill in full: phases, checks with what they measured, probe
// verdicts and findings, restores with their drift paths, the figures and
// the configuration digest it ran with.
struct DrillInFull {
  DrillDetails d;
  std::vector<store::CheckResultRecord> checks;
  std::vector<store::FindingRecord> findings;
  std::vector<store::DriftRecord> drift;
};
base::Result<DrillInFull> ReadDrillInFull(store::StateStore& store, int64_t drill_id);
nlohmann::json DrillInFullJson(const DrillInFull& drill);
std::string RenderDrillInFull(const DrillInFull& drill);

}  // namespace sb::report

#endif  // STANDBY_REPORT_REPORT_RENDER_H_
