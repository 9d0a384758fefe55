// The report's figures for Prometheus: the text exposition format that
// node_exporter's textfile collector reads, one series per standby (the
// only label besides `phase`, `kind` and `version`, so the cardinality is
// the number of standbys).
//
//   standbyctl_build_info{version}                         1
//   standbyctl_drill_last_run_timestamp_seconds{standby}   start of the last drill
//   standbyctl_drill_last_success_timestamp_seconds{standby}
//   standbyctl_drill_success{standby}                      1 when the last finished drill passed
//   standbyctl_rto_seconds{standby,phase}                  the last passed drill's RTO parts,
//                                                          and phase="total"
//   standbyctl_rto_target_seconds{standby}
//   standbyctl_rpo_seconds{standby}, standbyctl_rpo_target_seconds{standby}
//   standbyctl_exposure_seconds{standby}                   the last finished drill's
//   standbyctl_verification_age_seconds{standby}           since the last passed drill
//   standbyctl_verify_within_seconds{standby}              the policy
//   standbyctl_verification_stale{standby}                 1 unless verified (report.h)
//   standbyctl_drift_files{standby,kind}                   the last finished drill's drift
//
// Standbys no longer in the configuration are left out (their series
// would alert forever). A series whose value is unknown (no drill passed yet, no target) is left
// out rather than given a made-up value.
#ifndef STANDBY_REPORT_METRICS_H_
#define STANDBY_REPORT_METRICS_H_

#include <string>
#include <string_view>

#include "agent/base/status.h"
#include "standby/report/report.h"

namespace sb::report {

// `report` must cover all drills (no `since`).
std::string RenderMetrics(const Report& report, std::string_view version);

// Writes RenderMetrics to DIR/standbyctl.prom atomically (a temporary file
// beside it, mode 0644, rename), so the collector never reads half a file.
base::Status WriteMetricsFile(const std::string& dir, const Report& report,
                              std::string_view version);

}  // namespace sb::report

#endif  // STANDBY_REPORT_METRICS_H_
