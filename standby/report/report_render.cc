#include "standby/report/report_render.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "agent/base/units.h"
#include "agent/sync/drift.h"

namespace sb::report {
namespace {

using nlohmann::json;

std::string_view KindName(size_t k) { return sync::DriftKindName(static_cast<sync::DriftKind>(k)); }

json SecondsOrNull(const std::optional<int64_t>& ms) {
  return ms ? json(Seconds(*ms)) : json(nullptr);
}

json RatioOrNull(const std::optional<double>& r) {
  return r ? json(std::round(*r * 1000.0) / 1000.0) : json(nullptr);
}

std::string PartKey(std::string_view part) {
  std::string key(part);
  std::replace(key.begin(), key.end(), ' ', '_');
  return key + "_seconds";
}

// A table for a terminal: columns as wide as their widest cell, numbers
// right-aligned, no trailing blanks.
class TextTable {
 public:
  TextTable(std::vector<std::string> headers, std::vector<bool> right)
      : rows_{std::move(headers)}, right_(std::move(right)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const {
    std::vector<size_t> width(right_.size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        if (i > 0) line += "  ";
        const size_t pad = width[i] - row[i].size();
        if (right_[i]) line.append(pad, ' ');
        line += row[i];
        if (!right_[i]) line.append(pad, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

std::string Dur(const std::optional<int64_t>& ms) {
  return ms ? base::FormatDuration(base::Duration(*ms)) : "-";
}

std::string Ratio(const Figure& f) {
  if (!f.ratio) return std::string(ComplianceName(f.compliance));
  return fmt::format("{:.2f}x {}", *f.ratio, ComplianceName(f.compliance));
}

std::string Share(int met, int measured) {
  return measured == 0 ? "-" : fmt::format("{}/{}", met, measured);
}

// The standby's trend in words: the rolling medians and the restore size.
std::string TrendWords(const StandbyStatus& s) {
  if (!s.rto_median_ms && !s.restore_median_ms) return "no drill measured an RTO or a restore";
  return fmt::format(
      "median of the last {} drills: RTO {}, restore {}, {} restored a drill; {} regression{}",
      kTrendWindow, Dur(s.rto_median_ms), Dur(s.restore_median_ms),
      s.bytes_restored_median ? base::FormatSize(static_cast<uint64_t>(*s.bytes_restored_median))
                              : "-",
      s.regressions, s.regressions == 1 ? "" : "s");
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvSeconds(const std::optional<int64_t>& ms) {
  return ms ? fmt::format("{:.3f}", Seconds(*ms)) : "";
}

std::string CsvRatio(const std::optional<double>& r) { return r ? fmt::format("{:.3f}", *r) : ""; }

std::string Verdicts(const DrillDetails& d) {
  std::string out;
  for (const store::ProbeResultRecord& p : d.probes) {
    out += fmt::format("{}{}={}", out.empty() ? "" : ";", p.probe, p.verdict);
  }
  return out;
}

json StatusJson(const StandbyStatus& s) {
  auto share = [](int met, int measured) {
    return measured == 0 ? json(nullptr) : json(std::round(1000.0 * met / measured) / 1000.0);
  };
  auto time = [](const std::optional<int64_t>& ms) {
    return ms ? json(Rfc3339(*ms)) : json(nullptr);
  };
  return {
      {"standby", s.name},
      {"configured", s.configured},
      {"verification", VerificationName(s.verification)},
      {"why", s.why},
      {"last_passed_drill", s.last_passed_id ? json(*s.last_passed_id) : json(nullptr)},
      {"last_passed", time(s.last_passed_wall_ms)},
      {"verification_age_seconds", SecondsOrNull(s.age_ms)},
      {"verify_within_seconds", s.configured ? json(Seconds(s.verify_within_ms)) : json(nullptr)},
      {"last_run_drill", s.last_run_id ? json(*s.last_run_id) : json(nullptr)},
      {"last_run", time(s.last_run_wall_ms)},
      {"last_run_result", s.last_run_id ? json(s.last_run_result) : json(nullptr)},
      {"rto_target_seconds", SecondsOrNull(s.rto_target_ms)},
      {"rpo_target_seconds", SecondsOrNull(s.rpo_target_ms)},
      {"drills", s.drills},
      {"passed", s.passed},
      {"failed", s.failed},
      {"aborted", s.aborted},
      {"running", s.running},
      {"regressions", s.regressions},
      {"rto_met_ratio", share(s.rto_met, s.rto_measured)},
      {"rpo_met_ratio", share(s.rpo_met, s.rpo_measured)},
      {"rto_median_seconds", SecondsOrNull(s.rto_median_ms)},
      {"restore_median_seconds", SecondsOrNull(s.restore_median_ms)},
      {"bytes_restored_median",
       s.bytes_restored_median ? json(*s.bytes_restored_median) : json(nullptr)}};
}

// The fields of a drill's row that the report's drills and `history show`
// share.
json RecordJson(const store::DrillRecord& r) {
  const store::DrillOutcome& o = r.outcome;
  return {{"id", r.id},
          {"standby", r.start.standby},
          {"kind", r.start.kind},
          {"trigger", r.start.trigger},
          {"started", Rfc3339(r.start.at.wall_ms)},
          {"finished", r.finished ? json(Rfc3339(r.finished->wall_ms)) : json(nullptr)},
          {"result", store::DrillResultName(o.result)},
          {"failed_phase", TextOrNull(o.failed_phase)},
          {"reason", TextOrNull(o.reason)},
          {"rto_seconds", SecondsOrNull(o.rto_ms)},
          {"dns_ttl_seconds", SecondsOrNull(o.dns_ttl_ms)},
          {"effective_failover_seconds", SecondsOrNull(o.effective_failover_ms)},
          {"rpo_seconds", SecondsOrNull(o.rpo_ms)},
          {"exposure_seconds", SecondsOrNull(o.exposure_ms)},
          {"config_digest", TextOrNull(r.start.config_digest)}};
}

json DrillRowJson(const DrillRow& row) {
  const store::DrillRecord& r = row.d.record;
  json parts = json::object();
  for (const char* part : kRtoParts) parts[PartKey(part)] = SecondsOrNull(row.PhaseMs(part));
  json drift = json::object();
  for (size_t k = 0; k < sync::kDriftKindCount; ++k)
    drift[std::string(KindName(k))] = row.d.drift[k];
  json verdicts = json::object();
  for (const store::ProbeResultRecord& p : row.d.probes) verdicts[p.probe] = p.verdict;
  json j = RecordJson(r);
  j.update(json{{"rto_parts", parts},
                {"compare_seconds", SecondsOrNull(row.PhaseMs("compare"))},
                {"rto_target_seconds", SecondsOrNull(row.rto.target_ms)},
                {"rto_ratio", RatioOrNull(row.rto.ratio)},
                {"rto_compliance", ComplianceName(row.rto.compliance)},
                {"rpo_target_seconds", SecondsOrNull(row.rpo.target_ms)},
                {"rpo_ratio", RatioOrNull(row.rpo.ratio)},
                {"rpo_compliance", ComplianceName(row.rpo.compliance)},
                {"files_restored", row.files_restored},
                {"files_deleted", row.files_deleted},
                {"bytes_restored", row.bytes_restored},
                {"bytes_wire", row.bytes_wire},
                {"drift", drift},
                {"drift_total", row.drift_total},
                {"verdicts", verdicts},
                {"rto_median_seconds", SecondsOrNull(row.rto_median_ms)},
                {"restore_median_seconds", SecondsOrNull(row.restore_median_ms)},
                {"previous_rto_median_seconds", SecondsOrNull(row.previous_rto_median_ms)},
                {"regression", TextOrNull(row.regression)},
                {"config_current", row.current_config}});
  return j;
}

}  // namespace

std::string DriftWords(const DrillDetails& d) {
  std::string out;
  for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
    if (d.drift[k] > 0)
      out += fmt::format("{}{} {}", out.empty() ? "" : ", ", d.drift[k], KindName(k));
  }
  return out.empty() ? "-" : out;
}

json ReportJson(const Report& report) {
  json standbys = json::array();
  for (const StandbyStatus& s : report.standbys) standbys.push_back(StatusJson(s));
  json drills = json::array();
  for (const DrillRow& row : report.drills) drills.push_back(DrillRowJson(row));
  return {{"format", "standbyctl-report/1"},
          {"generated", Rfc3339(report.generated_wall_ms)},
          {"standby", TextOrNull(report.query.standby)},
          {"since", report.query.since_wall_ms == 0 ? json(nullptr)
                                                    : json(Rfc3339(report.query.since_wall_ms))},
          {"standbys", standbys},
          {"drills", drills}};
}

std::string RenderCsv(const Report& report) {
  std::vector<std::string> header = {"id",       "standby", "kind",         "trigger",    "started",
                                     "finished", "result",  "failed_phase", "rto_seconds"};
  for (const char* part : kRtoParts) header.push_back(PartKey(part));
  for (const char* h : {"compare_seconds", "dns_ttl_seconds", "effective_failover_seconds",
                        "rpo_seconds", "exposure_seconds", "rto_target_seconds", "rto_ratio",
                        "rto_compliance", "rpo_target_seconds", "rpo_ratio", "rpo_compliance",
                        "files_restored", "files_deleted", "bytes_restored", "bytes_wire"}) {
    header.push_back(h);
  }
  for (size_t k = 0; k < sync::kDriftKindCount; ++k)
    header.push_back(fmt::format("drift_{}", KindName(k)));
  for (const char* h : {"verdicts", "rto_median_seconds", "restore_median_seconds", "regression",
                        "config_current", "reason"}) {
    header.push_back(h);
  }
  std::string out = fmt::format("{}\r\n", fmt::join(header, ","));
  for (const DrillRow& row : report.drills) {
    const store::DrillRecord& r = row.d.record;
    const store::DrillOutcome& o = r.outcome;
    std::vector<std::string> f = {std::to_string(r.id),
                                  r.start.standby,
                                  r.start.kind,
                                  r.start.trigger,
                                  Rfc3339(r.start.at.wall_ms),
                                  r.finished ? Rfc3339(r.finished->wall_ms) : "",
                                  std::string(store::DrillResultName(o.result)),
                                  o.failed_phase,
                                  CsvSeconds(o.rto_ms)};
    for (const char* part : kRtoParts) f.push_back(CsvSeconds(row.PhaseMs(part)));
    f.push_back(CsvSeconds(row.PhaseMs("compare")));
    f.push_back(CsvSeconds(o.dns_ttl_ms));
    f.push_back(CsvSeconds(o.effective_failover_ms));
    f.push_back(CsvSeconds(o.rpo_ms));
    f.push_back(CsvSeconds(o.exposure_ms));
    f.push_back(CsvSeconds(row.rto.target_ms));
    f.push_back(CsvRatio(row.rto.ratio));
    f.push_back(std::string(ComplianceName(row.rto.compliance)));
    f.push_back(CsvSeconds(row.rpo.target_ms));
    f.push_back(CsvRatio(row.rpo.ratio));
    f.push_back(std::string(ComplianceName(row.rpo.compliance)));
    for (int64_t n : {row.files_restored, row.files_deleted, row.bytes_restored, row.bytes_wire}) {
      f.push_back(std::to_string(n));
    }
    for (uint64_t n : row.d.drift) f.push_back(std::to_string(n));
    f.push_back(Verdicts(row.d));
    f.push_back(CsvSeconds(row.rto_median_ms));
    f.push_back(CsvSeconds(row.restore_median_ms));
    f.push_back(row.regression);
    f.push_back(row.current_config ? "true" : "false");
    f.push_back(o.reason);
    for (std::string& field : f) field = CsvField(field);
    out += fmt::format("{}\r\n", fmt::join(f, ","));
  }
  return out;
}

std::string RenderText(const Report& report) {
  std::string out =
      fmt::format("standbyctl report, generated {}", Rfc3339(report.generated_wall_ms));
  if (!report.query.standby.empty()) out += fmt::format(", standby {}", report.query.standby);
  if (report.query.since_wall_ms != 0) {
    out += fmt::format(", drills since {}", Rfc3339(report.query.since_wall_ms));
  }
  out += "\n\n";
  if (report.standbys.empty()) return out + "no standbys configured and no drills recorded\n";

  TextTable status(
      {"STANDBY", "STATE", "LAST PASSED", "AGE", "WITHIN", "RTO TARGET", "RTO MET", "RPO TARGET",
       "RPO MET", "DRILLS", "PASSED", "FAILED", "ABORTED"},
      {false, false, false, true, true, true, true, true, true, true, true, true, true});
  for (const StandbyStatus& s : report.standbys) {
    status.Add({s.name, std::string(VerificationName(s.verification)),
                s.last_passed_wall_ms ? Rfc3339(*s.last_passed_wall_ms) : "-", Dur(s.age_ms),
                s.configured ? Dur(s.verify_within_ms) : "-", Dur(s.rto_target_ms),
                Share(s.rto_met, s.rto_measured), Dur(s.rpo_target_ms),
                Share(s.rpo_met, s.rpo_measured), std::to_string(s.drills),
                std::to_string(s.passed), std::to_string(s.failed), std::to_string(s.aborted)});
  }
  out += "Verification\n" + status.Render();
  for (const StandbyStatus& s : report.standbys) {
    out += fmt::format("  {}: {}: {}\n    trend: {}\n", s.name, VerificationName(s.verification),
                       s.why, TrendWords(s));
  }
  out += "\n";
  if (report.drills.empty()) return out + "no drills in this period\n";

  std::vector<std::string> header = {"ID",     "STANDBY", "KIND",     "STARTED",
                                     "RESULT", "RTO",     "VS TARGET"};
  for (const char* part : kRtoParts) {
    std::string h(part);
    std::transform(h.begin(), h.end(), h.begin(), ::toupper);
    header.push_back(h);
  }
  for (const char* h : {"MEDIAN", "RPO", "EXPOSURE", "FILES", "BYTES", "DRIFT"})
    header.push_back(h);
  std::vector<bool> right = {true, false, false, false, false, true, false};
  right.resize(header.size(), true);
  right.back() = false;
  TextTable drills(header, right);
  std::vector<std::string> notes;
  for (const DrillRow& row : report.drills) {
    const store::DrillRecord& r = row.d.record;
    std::string result(store::DrillResultName(r.outcome.result));
    if (!r.outcome.failed_phase.empty()) result += " (" + r.outcome.failed_phase + ")";
    std::vector<std::string> cells = {
        std::to_string(r.id),  r.start.standby, r.start.kind, Rfc3339(r.start.at.wall_ms), result,
        Dur(r.outcome.rto_ms), Ratio(row.rto)};
    for (const char* part : kRtoParts) cells.push_back(Dur(row.PhaseMs(part)));
    cells.push_back(Dur(row.rto_median_ms));
    cells.push_back(Dur(r.outcome.rpo_ms));
    cells.push_back(Dur(r.outcome.exposure_ms));
    cells.push_back(std::to_string(row.files_restored));
    cells.push_back(base::FormatSize(static_cast<uint64_t>(row.bytes_restored)));
    cells.push_back(DriftWords(row.d));
    drills.Add(std::move(cells));
    if (!row.regression.empty()) {
      notes.push_back(fmt::format("  drill {}: regression: {}", r.id, row.regression));
    }
    if (!r.outcome.reason.empty() && r.outcome.result != store::DrillResult::kPassed) {
      notes.push_back(fmt::format("  drill {}: {}", r.id, r.outcome.reason));
    }
  }
  out += "Drills, oldest first\n" + drills.Render();
  for (const std::string& n : notes) out += n + "\n";
  return out;
}

base::Result<DrillInFull> ReadDrillInFull(store::StateStore& store, int64_t drill_id) {
  DrillInFull full;
  base::Result<DrillDetails> d = ReadDrillDetails(store, drill_id);
  if (!d.ok()) return d.status();
  full.d = std::move(*d);
  auto checks = store.ListCheckResults(drill_id);
  if (!checks.ok()) return checks.status();
  full.checks = std::move(*checks);
  auto findings = store.ListFindings(drill_id);
  if (!findings.ok()) return findings.status();
  full.findings = std::move(*findings);
  auto drift = store.ListDrift(drill_id);
  if (!drift.ok()) return drift.status();
  full.drift = std::move(*drift);
  return full;
}

nlohmann::json TextOrNull(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

nlohmann::json DrillRecordJson(const store::DrillRecord& record) {
  const store::DrillOutcome& o = record.outcome;
  json j = RecordJson(record);
  j.update(json{{"boot_seconds", SecondsOrNull(o.boot_ms)},
                {"restore_seconds", SecondsOrNull(o.restore_ms)},
                {"primary_connections", o.primary_connections},
                {"primary_requests", o.primary_requests}});
  return j;
}

nlohmann::json DrillInFullJson(const DrillInFull& drill) {
  const store::DrillRecord& r = drill.d.record;
  json phases = json::array();
  for (const store::PhaseRecord& p : drill.d.phases) {
    phases.push_back({{"name", p.name},
                      {"outcome", store::PhaseOutcomeName(p.outcome)},
                      {"started", Rfc3339(p.started.wall_ms)},
                      {"ended", p.ended ? json(Rfc3339(p.ended->wall_ms)) : json(nullptr)},
                      {"duration_seconds",
                       p.ended ? json(Seconds((p.ended->mono_ns - p.started.mono_ns) / 1'000'000))
                               : json(nullptr)},
                      {"reason", p.reason}});
  }
  json checks = json::array();
  for (const store::CheckResultRecord& c : drill.checks) {
    json measured = json::parse(c.measured, nullptr, false);
    if (measured.is_discarded()) measured = json::object();
    checks.push_back({{"name", c.name},
                      {"kind", c.kind},
                      {"outcome", store::CheckOutcomeName(c.outcome)},
                      {"duration_seconds", Seconds(c.duration_ms)},
                      {"detail", c.detail},
                      {"measured", measured}});
  }
  json probes = json::array();
  for (const store::ProbeResultRecord& p : drill.d.probes) {
    json findings = json::array();
    for (const store::FindingRecord& f : drill.findings) {
      if (f.probe != p.probe) continue;
      findings.push_back(
          {{"host", f.host}, {"kind", f.kind}, {"bearing", f.bearing}, {"detail", f.detail}});
    }
    probes.push_back({{"probe", p.probe},
                      {"verdict", p.verdict},
                      {"primary_median_seconds",
                       p.primary_median_us ? json(static_cast<double>(*p.primary_median_us) / 1e6)
                                           : json(nullptr)},
                      {"standby_median_seconds",
                       p.standby_median_us ? json(static_cast<double>(*p.standby_median_us) / 1e6)
                                           : json(nullptr)},
                      {"ratio", RatioOrNull(p.ratio)},
                      {"ratio_low", RatioOrNull(p.ratio_low)},
                      {"ratio_high", RatioOrNull(p.ratio_high)},
                      {"detail", p.detail},
                      {"findings", findings}});
  }
  json restores = json::array();
  for (const store::RestoreStatsRecord& s : drill.d.restores) {
    json drift = json::array();
    for (const store::DriftRecord& d : drill.drift) {
      if (d.target != s.target) continue;
      drift.push_back({{"kind", d.kind}, {"path", d.path}, {"detail", d.detail}});
    }
    restores.push_back({{"source", s.source},
                        {"target", s.target},
                        {"files_scanned", s.files_scanned},
                        {"files_unchanged", s.files_unchanged},
                        {"files_changed", s.files_changed},
                        {"files_new", s.files_new},
                        {"files_deleted", s.files_deleted},
                        {"bytes_literal", s.bytes_literal},
                        {"bytes_matched", s.bytes_matched},
                        {"bytes_wire", s.bytes_wire},
                        {"bytes_reread", s.bytes_reread},
                        {"bytes_from_cache", s.bytes_from_cache},
                        {"drift_count", s.drift_count},
                        {"corrupt_count", s.corrupt_count},
                        {"scan_seconds", Seconds(s.scan_ms)},
                        {"transfer_seconds", Seconds(s.transfer_ms)},
                        {"commit_seconds", Seconds(s.commit_ms)},
                        {"source_digest", s.source_digest},
                        {"target_digest", s.target_digest},
                        {"drift", drift}});
  }
  json j = DrillRecordJson(r);
  j.update(
      json{{"phases", phases}, {"checks", checks}, {"probes", probes}, {"restores", restores}});
  return j;
}

std::string RenderDrillInFull(const DrillInFull& drill) {
  const store::DrillRecord& r = drill.d.record;
  const store::DrillOutcome& o = r.outcome;
  std::string out =
      fmt::format("drill {}: {} of {}, {} ({}), started {}\n", r.id, r.start.kind, r.start.standby,
                  store::DrillResultName(o.result), r.start.trigger, Rfc3339(r.start.at.wall_ms));
  if (!o.failed_phase.empty()) out += fmt::format("  failed in {}: {}\n", o.failed_phase, o.reason);
  out += fmt::format("  RTO {}, effective failover {} (DNS TTL {}), RPO {}, exposure {}\n",
                     Dur(o.rto_ms), Dur(o.effective_failover_ms), Dur(o.dns_ttl_ms), Dur(o.rpo_ms),
                     Dur(o.exposure_ms));
  out += fmt::format("  on the primary: {} connections, {} requests\n", o.primary_connections,
                     o.primary_requests);
  out += fmt::format("  configuration digest: {}\n",
                     r.start.config_digest.empty() ? "not recorded" : r.start.config_digest);

  TextTable phases({"PHASE", "OUTCOME", "STARTED", "TOOK", "REASON"},
                   {false, false, false, true, false});
  for (const store::PhaseRecord& p : drill.d.phases) {
    phases.Add({p.name, std::string(store::PhaseOutcomeName(p.outcome)), Rfc3339(p.started.wall_ms),
                p.ended ? Dur((p.ended->mono_ns - p.started.mono_ns) / 1'000'000) : "-", p.reason});
  }
  out += "\nPhases\n" + phases.Render();
  if (!drill.checks.empty()) {
    TextTable checks({"CHECK", "KIND", "OUTCOME", "TOOK", "DETAIL", "MEASURED"},
                     {false, false, false, true, false, false});
    for (const store::CheckResultRecord& c : drill.checks) {
      checks.Add({c.name, c.kind, std::string(store::CheckOutcomeName(c.outcome)),
                  Dur(c.duration_ms), c.detail, c.measured == "{}" ? "" : c.measured});
    }
    out += "\nChecks\n" + checks.Render();
  }
  if (!drill.d.probes.empty()) {
    out += "\nProbes\n";
    for (const store::ProbeResultRecord& p : drill.d.probes) {
      out += fmt::format("  {}: {}: {}\n", p.probe, p.verdict, p.detail);
      for (const store::FindingRecord& f : drill.findings) {
        if (f.probe == p.probe) {
          out += fmt::format("    {} ({}, {}): {}\n", f.kind, f.host, f.bearing, f.detail);
        }
      }
    }
  }
  for (const store::RestoreStatsRecord& s : drill.d.restores) {
    out += fmt::format(
        "\nRestore {} -> {}\n  {} files scanned, {} changed, {} new, {} deleted; {} literal, {} "
        "matched, {} on the wire; {} re-read, {} from the hash cache\n  scan {}, transfer {}, "
        "commit {}; digest {}\n",
        s.source, s.target, s.files_scanned, s.files_changed, s.files_new, s.files_deleted,
        base::FormatSize(static_cast<uint64_t>(s.bytes_literal)),
        base::FormatSize(static_cast<uint64_t>(s.bytes_matched)),
        base::FormatSize(static_cast<uint64_t>(s.bytes_wire)),
        base::FormatSize(static_cast<uint64_t>(s.bytes_reread)),
        base::FormatSize(static_cast<uint64_t>(s.bytes_from_cache)), Dur(s.scan_ms),
        Dur(s.transfer_ms), Dur(s.commit_ms),
        s.target_digest.empty() ? "not read" : s.target_digest.substr(0, 16));
    int64_t listed = 0;
    for (const store::DriftRecord& d : drill.drift) {
      if (d.target != s.target) continue;
      out += fmt::format("  drift: {} {}{}\n", d.kind, d.path,
                         d.detail.empty() ? "" : " (" + d.detail + ")");
      ++listed;
    }
    if (listed == 0 && s.drift_count == 0) out += "  drift: none recorded\n";
    if (listed == 0 && s.drift_count > 0) {
      out += fmt::format("  drift: {} paths counted, none listed\n", s.drift_count);
    }
  }
  return out;
}

}  // namespace sb::report
