// The recovery-time report: every drill of the standbys with its recovery
// time split into phases, against the targets, the trend of it, and whether
// each standby counts as verified now.
//
// BuildReport reads the state store; Analyze, which it calls, is pure: the
// figures, the compliance states, the rolling medians, the regressions and
// the verification status come from the drills and the configuration alone.
// The renderers (report_render.h) turn a Report into text, JSON, CSV or
// HTML, and metrics.h into Prometheus' text format.
//
// The rules, for auditors:
// - Compliance of a figure against its target, as Acronis reports RPO
//   compliance: met (at most the target), exceeded (at most twice it),
//   severely exceeded (more), or no target / not measured.
// - A regression: a drill whose RTO is above 1.25 times the median RTO of
//   the standby's previous 6 drills that measured one, or above the target.
// - Verified: the standby's last passed drill (or prep) is younger than
//   `verify_within` and ran with the configuration the standby has now (its
//   digest, config.h). Otherwise stale, saying which; never verified when no
//   drill passed.
#ifndef STANDBY_REPORT_REPORT_H_
#define STANDBY_REPORT_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"
#include "agent/base/units.h"
#include "agent/sync/drift.h"
#include "standby/config/config.h"
#include "standby/store/state_store.h"

namespace sb::report {

inline constexpr double kRegressionFactor = 1.25;
inline constexpr int kTrendWindow = 6;  // drills in a rolling median

enum class Compliance { kNoTarget, kNotMeasured, kMet, kExceeded, kSeverelyExceeded };
std::string_view ComplianceName(Compliance c);  // "no-target", "met", ...

enum class Verification { kVerified, kStale, kNever };
std::string_view VerificationName(Verification v);  // "verified", "stale", "never"

// The recovery time's parts, in the order a drill runs them; the RTO runs
// from power on through smoke. Compare comes after the RTO.
inline constexpr const char* kRtoParts[] = {"power on", "boot", "lease", "restore", "smoke"};

// What the store holds about one drill beside its row.
struct DrillDetails {
  store::DrillRecord record;
  std::vector<store::PhaseRecord> phases;
  std::vector<store::RestoreStatsRecord> restores;
  sync::DriftCounts drift{};  // paths recorded, by kind
  std::vector<store::ProbeResultRecord> probes;
};

struct Figure {
  std::optional<int64_t> ms;
  std::optional<int64_t> target_ms;
  std::optional<double> ratio;  // ms / target
  Compliance compliance = Compliance::kNoTarget;
};

struct DrillRow {
  DrillDetails d;
  // Each phase's duration by name, for the phases that ended.
  std::map<std::string, int64_t, std::less<>> phase_ms;
  std::optional<int64_t> PhaseMs(std::string_view name) const;
  Figure rto, rpo;
  int64_t files_restored = 0;  // changed and new
  int64_t files_deleted = 0;
  int64_t bytes_restored = 0;  // what the changed files hold (literal and matched)
  int64_t bytes_wire = 0;
  int64_t drift_total = 0;
  // The rolling medians over this drill and the standby's previous ones
  // (up to kTrendWindow that measured it); absent when this one did not.
  std::optional<int64_t> rto_median_ms, restore_median_ms;
  // The median RTO of the previous kTrendWindow drills that measured one,
  // and why this drill is a regression (empty when it is not).
  std::optional<int64_t> previous_rto_median_ms;
  std::string regression;
  bool current_config = false;  // ran with the standby's digest of today
};

struct StandbyStatus {
  std::string name;
  bool configured = true;  // in today's configuration
  std::optional<int64_t> rto_target_ms, rpo_target_ms;
  int64_t verify_within_ms = 0;
  Verification verification = Verification::kNever;
  std::string why;  // what the state rests on, in words
  std::optional<int64_t> last_passed_id, last_passed_wall_ms, age_ms;
  std::optional<int64_t> last_run_id, last_run_wall_ms;
  std::string last_run_result;
  int drills = 0, passed = 0, failed = 0, aborted = 0, running = 0;
  int regressions = 0;
  // Of the drills that measured the figure and have a target: how many met it.
  int rto_measured = 0, rto_met = 0, rpo_measured = 0, rpo_met = 0;
  std::optional<int64_t> rto_median_ms, restore_median_ms;  // the latest rolling medians
  std::optional<int64_t> bytes_restored_median;             // over the last kTrendWindow drills
};

struct ReportQuery {
  std::string standby;        // empty: all
  int64_t since_wall_ms = 0;  // drills started before are not listed (status uses all)
};

struct Report {
  int64_t generated_wall_ms = 0;
  ReportQuery query;
  std::vector<StandbyStatus> standbys;  // configured ones in config order, then the others
  std::vector<DrillRow> drills;         // oldest first
};

// Pure: the report of `drills` (any order) under `config` at `now_wall_ms`.
Report Analyze(std::vector<DrillDetails> drills, const config::Config& config,
               const ReportQuery& query, int64_t now_wall_ms);

// Reads every drill of the queried standbys from `store` (earlier ones too:
// the trend and the status need them) and analyzes them.
base::Result<Report> BuildReport(store::StateStore& store, const config::Config& config,
                                 const ReportQuery& query, int64_t now_wall_ms);

// One drill with its details; kNotFound naming the store when there is none.
base::Result<DrillDetails> ReadDrillDetails(store::StateStore& store, int64_t drill_id);

// Time formats shared by every rendering: RFC 3339 UTC with seconds
// ("2026-11-01T03:00:12Z"), and milliseconds as seconds (412.301).
using base::Rfc3339;
double Seconds(int64_t ms);

}  // namespace sb::report

#endif  // STANDBY_REPORT_REPORT_H_
