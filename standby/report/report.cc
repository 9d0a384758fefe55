#include "standby/report/report.h"

#include <algorithm>
#include <ctime>
#include <deque>
#include <limits>

#include <fmt/format.h>

#include "agent/base/units.h"

namespace sb::report {
namespace {

using store::DrillResult;

std::string Ms(int64_t ms) { return base::FormatDuration(base::Duration(ms)); }

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Figure Against(std::optional<int64_t> ms, std::optional<config::Duration> target) {
  Figure f;
  f.ms = ms;
  if (target) f.target_ms = target->count();
  if (!target) {
    f.compliance = Compliance::kNoTarget;
  } else if (!ms) {
    f.compliance = Compliance::kNotMeasured;
  } else {
    f.ratio = static_cast<double>(*ms) / static_cast<double>(*f.target_ms);
    f.compliance = *f.ratio <= 1.0   ? Compliance::kMet
                   : *f.ratio <= 2.0 ? Compliance::kExceeded
                                     : Compliance::kSeverelyExceeded;
  }
  return f;
}

DrillRow RowOf(DrillDetails d, const config::StandbyConfig* standby) {
  DrillRow row;
  for (const store::PhaseRecord& p : d.phases) {
    if (p.ended && p.outcome != store::PhaseOutcome::kSkipped) {
      row.phase_ms[p.name] = (p.ended->mono_ns - p.started.mono_ns) / 1'000'000;
    }
  }
  row.rto = Against(d.record.outcome.rto_ms, standby ? standby->rto_target : std::nullopt);
  row.rpo = Against(d.record.outcome.rpo_ms, standby ? standby->rpo_target : std::nullopt);
  for (const store::RestoreStatsRecord& r : d.restores) {
    row.files_restored += r.files_changed + r.files_new;
    row.files_deleted += r.files_deleted;
    row.bytes_restored += r.bytes_literal + r.bytes_matched;
    row.bytes_wire += r.bytes_wire;
  }
  for (uint64_t n : d.drift) row.drift_total += static_cast<int64_t>(n);
  row.current_config = standby && !d.record.start.config_digest.empty() &&
                       d.record.start.config_digest == standby->digest;
  row.d = std::move(d);
  return row;
}

// The rolling medians and regressions of one standby's rows, oldest first.
void Trend(std::vector<DrillRow*>& rows, const config::StandbyConfig* standby) {
  std::deque<int64_t> rtos, restores;
  for (DrillRow* row : rows) {
    const std::optional<int64_t>& rto = row->d.record.outcome.rto_ms;
    const std::optional<int64_t>& restore = row->d.record.outcome.restore_ms;
    if (rto) {
      if (!rtos.empty()) {
        row->previous_rto_median_ms = Median({rtos.begin(), rtos.end()});
        const double limit = kRegressionFactor * static_cast<double>(*row->previous_rto_median_ms);
        if (static_cast<double>(*rto) > limit) {
          row->regression = fmt::format(
              "RTO {} is {:.2f}x the median {} of the {} drills before", Ms(*rto),
              static_cast<double>(*rto) / static_cast<double>(*row->previous_rto_median_ms),
              Ms(*row->previous_rto_median_ms), rtos.size());
        }
      }
      if (standby && standby->rto_target && *rto > standby->rto_target->count()) {
        std::string over =
            fmt::format("RTO {} is over the target {}", Ms(*rto), Ms(standby->rto_target->count()));
        row->regression = row->regression.empty() ? over : row->regression + "; " + over;
      }
      rtos.push_back(*rto);
      if (rtos.size() > kTrendWindow) rtos.pop_front();
      row->rto_median_ms = Median({rtos.begin(), rtos.end()});
    }
    if (restore) {
      restores.push_back(*restore);
      if (restores.size() > kTrendWindow) restores.pop_front();
      row->restore_median_ms = Median({restores.begin(), restores.end()});
    }
  }
}

StandbyStatus StatusOf(const std::string& name, const config::StandbyConfig* standby,
                       const std::vector<DrillRow*>& rows, int64_t now) {
  StandbyStatus s;
  s.name = name;
  s.configured = standby != nullptr;
  if (standby) {
    if (standby->rto_target) s.rto_target_ms = standby->rto_target->count();
    if (standby->rpo_target) s.rpo_target_ms = standby->rpo_target->count();
    s.verify_within_ms = standby->verify_within.count();
  }
  const DrillRow* last_passed = nullptr;
  std::vector<int64_t> bytes;
  for (const DrillRow* row : rows) {
    const store::DrillRecord& r = row->d.record;
    ++s.drills;
    switch (r.outcome.result) {
      case DrillResult::kPassed:
        ++s.passed;
        last_passed = row;
        break;
      case DrillResult::kFailed:
        ++s.failed;
        break;
      case DrillResult::kAborted:
        ++s.aborted;
        break;
      case DrillResult::kRunning:
        ++s.running;
        break;
    }
    s.last_run_id = r.id;
    s.last_run_wall_ms = r.start.at.wall_ms;
    s.last_run_result = std::string(store::DrillResultName(r.outcome.result));
    if (!row->regression.empty()) ++s.regressions;
    if (row->rto.ratio) {
      ++s.rto_measured;
      if (row->rto.compliance == Compliance::kMet) ++s.rto_met;
    }
    if (row->rpo.ratio) {
      ++s.rpo_measured;
      if (row->rpo.compliance == Compliance::kMet) ++s.rpo_met;
    }
    if (row->rto_median_ms) s.rto_median_ms = row->rto_median_ms;
    if (row->restore_median_ms) s.restore_median_ms = row->restore_median_ms;
    if (!row->d.restores.empty()) bytes.push_back(row->bytes_restored);
  }
  if (bytes.size() > kTrendWindow) bytes.erase(bytes.begin(), bytes.end() - kTrendWindow);
  if (!bytes.empty()) s.bytes_restored_median = Median(bytes);

  if (!s.configured) {
    s.verification = last_passed ? Verification::kStale : Verification::kNever;
    s.why = "not in the configuration any more";
  } else if (!last_passed) {
    s.verification = Verification::kNever;
    s.why = s.drills == 0 ? "no drill recorded" : "no drill passed";
  }
  if (last_passed) {
    const store::DrillRecord& r = last_passed->d.record;
    s.last_passed_id = r.id;
    s.last_passed_wall_ms = r.start.at.wall_ms;
    s.age_ms = std::max<int64_t>(0, now - r.start.at.wall_ms);
  }
  if (!s.configured || !last_passed) return s;

  const store::DrillRecord& r = last_passed->d.record;
  std::vector<std::string> stale;
  if (*s.age_ms > s.verify_within_ms) {
    stale.push_back(fmt::format("the last passed drill ({}) is {} old, over verify_within {}", r.id,
                                Ms(*s.age_ms), Ms(s.verify_within_ms)));
  }
  if (r.start.config_digest.empty()) {
    stale.push_back(
        fmt::format("drill {} was recorded without a configuration digest, so it "
                    "cannot vouch for today's configuration",
                    r.id));
  } else if (!last_passed->current_config) {
    stale.push_back(fmt::format("the configuration changed after drill {} (digest {} then, {} now)",
                                r.id, r.start.config_digest.substr(0, 12),
                                standby->digest.substr(0, 12)));
  }
  if (stale.empty()) {
    s.verification = Verification::kVerified;
    s.why = fmt::format("drill {} passed {} ago (within {}) with today's configuration", r.id,
                        Ms(*s.age_ms), Ms(s.verify_within_ms));
  } else {
    s.verification = Verification::kStale;
    s.why = stale.front();
    for (size_t i = 1; i < stale.size(); ++i) s.why += "; " + stale[i];
  }
  return s;
}

// What the store holds about the drill of `record` beside its row.
base::Result<DrillDetails> ReadDetails(store::StateStore& store, store::DrillRecord record) {
  DrillDetails d;
  const int64_t id = record.id;
  d.record = std::move(record);
  auto phases = store.ListPhases(id);
  if (!phases.ok()) return phases.status();
  d.phases = std::move(*phases);
  auto restores = store.ListRestoreStats(id);
  if (!restores.ok()) return restores.status();
  d.restores = std::move(*restores);
  auto drift = store.CountDrift(id);
  if (!drift.ok()) return drift.status();
  for (const auto& [name, n] : *drift) {
    // The schema admits only drift.h's kinds.
    if (std::optional<sync::DriftKind> kind = sync::DriftKindFromName(name)) {
      d.drift[static_cast<size_t>(*kind)] = static_cast<uint64_t>(n);
    }
  }
  auto probes = store.ListProbeResults(id);
  if (!probes.ok()) return probes.status();
  d.probes = std::move(*probes);
  return d;
}

}  // namespace

std::optional<int64_t> DrillRow::PhaseMs(std::string_view name) const {
  auto it = phase_ms.find(name);
  if (it == phase_ms.end()) return std::nullopt;
  return it->second;
}

std::string_view ComplianceName(Compliance c) {
  switch (c) {
    case Compliance::kNoTarget:
      return "no-target";
    case Compliance::kNotMeasured:
      return "not-measured";
    case Compliance::kMet:
      return "met";
    case Compliance::kExceeded:
      return "exceeded";
    case Compliance::kSeverelyExceeded:
      return "severely-exceeded";
  }
  return "unknown";
}

std::string_view VerificationName(Verification v) {
  switch (v) {
    case Verification::kVerified:
      return "verified";
    case Verification::kStale:
      return "stale";
    case Verification::kNever:
      return "never";
  }
  return "unknown";
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

Report Analyze(std::vector<DrillDetails> drills, const config::Config& config,
               const ReportQuery& query, int64_t now_wall_ms) {
  std::sort(drills.begin(), drills.end(), [](const DrillDetails& a, const DrillDetails& b) {
    if (a.record.start.at.wall_ms != b.record.start.at.wall_ms) {
      return a.record.start.at.wall_ms < b.record.start.at.wall_ms;
    }
    return a.record.id < b.record.id;
  });
  Report report;
  report.generated_wall_ms = now_wall_ms;
  report.query = query;

  std::vector<std::string> names;
  for (const config::StandbyConfig& s : config.standbys) {
    if (query.standby.empty() || s.name == query.standby) names.push_back(s.name);
  }
  std::vector<DrillRow> rows;
  rows.reserve(drills.size());
  for (DrillDetails& d : drills) {
    if (!query.standby.empty() && d.record.start.standby != query.standby) continue;
    if (std::find(names.begin(), names.end(), d.record.start.standby) == names.end()) {
      names.push_back(d.record.start.standby);
    }
    const config::StandbyConfig* standby = config.FindStandby(d.record.start.standby);
    rows.push_back(RowOf(std::move(d), standby));
  }
  for (const std::string& name : names) {
    const config::StandbyConfig* standby = config.FindStandby(name);
    std::vector<DrillRow*> mine;
    for (DrillRow& row : rows) {
      if (row.d.record.start.standby == name) mine.push_back(&row);
    }
    Trend(mine, standby);
    report.standbys.push_back(StatusOf(name, standby, mine, now_wall_ms));
  }
  for (DrillRow& row : rows) {
    if (row.d.record.start.at.wall_ms >= query.since_wall_ms) {
      report.drills.push_back(std::move(row));
    }
  }
  return report;
}

base::Result<DrillDetails> ReadDrillDetails(store::StateStore& store, int64_t drill_id) {
  base::Result<store::DrillRecord> record = store.GetDrill(drill_id);
  if (!record.ok()) return record.status();
  return ReadDetails(store, std::move(*record));
}

base::Result<Report> BuildReport(store::StateStore& store, const config::Config& config,
                                 const ReportQuery& query, int64_t now_wall_ms) {
  store::DrillQuery q;
  q.standby = query.standby;
  q.limit = std::numeric_limits<int>::max();
  base::Result<std::vector<store::DrillRecord>> records = store.ListDrills(q);
  if (!records.ok()) return records.status();
  std::vector<DrillDetails> drills;
  drills.reserve(records->size());
  for (store::DrillRecord& r : *records) {
    base::Result<DrillDetails> d = ReadDetails(store, std::move(r));
    if (!d.ok()) return d.status();
    drills.push_back(std::move(*d));
  }
  return Analyze(std::move(drills), config, query, now_wall_ms);
}

}  // namespace sb::report
