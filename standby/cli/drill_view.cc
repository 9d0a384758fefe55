#include "standby/cli/drill_view.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "agent/base/units.h"
#include "standby/cli/command.h"
#include "standby/report/report_render.h"
#include "standby/restore/restore_record.h"

namespace sb::cli {
namespace {

std::string Ms(const std::optional<int64_t>& ms) {
  return ms ? base::FormatDuration(base::Duration(*ms)) : "-";
}

nlohmann::json OptionalJson(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json PhasesJson(const std::vector<drill::PhaseView>& phases) {
  nlohmann::json out = nlohmann::json::array();
  for (const drill::PhaseView& p : phases) {
    out.push_back({{"name", p.name},
                   {"outcome", store::PhaseOutcomeName(p.outcome)},
                   {"reason", p.reason},
                   {"duration_ms", p.duration_ms}});
  }
  return out;
}

nlohmann::json ChecksJson(const std::vector<store::CheckResultRecord>& checks) {
  nlohmann::json out = nlohmann::json::array();
  for (const store::CheckResultRecord& c : checks) {
    out.push_back({{"name", c.name},
                   {"kind", c.kind},
                   {"outcome", store::CheckOutcomeName(c.outcome)},
                   {"duration_ms", c.duration_ms},
                   {"detail", c.detail},
                   {"measured", nlohmann::json::parse(c.measured, nullptr, false)}});
    if (out.back()["measured"].is_discarded()) out.back()["measured"] = nlohmann::json::object();
  }
  return out;
}

// The effective failover time: when the last client would reach the
// standby (RTO + the largest DNS TTL), or what is known of it.
std::string EffectiveFailover(const store::DrillOutcome& o) {
  if (o.effective_failover_ms) {
    return fmt::format("{} (RTO {} + DNS TTL {})", Ms(o.effective_failover_ms), Ms(o.rto_ms),
                       Ms(o.dns_ttl_ms));
  }
  if (o.dns_ttl_ms) {
    return fmt::format("at least {} (the DNS TTL; no RTO, the drill did not pass)",
                       Ms(o.dns_ttl_ms));
  }
  return fmt::format("{} (the RTO; no dns check reads the TTLs clients follow)", Ms(o.rto_ms));
}

nlohmann::json RestoresJson(const std::vector<restore::RestoreReport>& restores) {
  nlohmann::json out = nlohmann::json::array();
  for (const restore::RestoreReport& r : restores) {
    out.push_back({{"source", r.source.path},
                   {"target", r.spec.target},
                   {"bytes_literal", r.literal_bytes},
                   {"bytes_matched", r.matched_bytes},
                   {"bytes_wire", r.wire_bytes},
                   {"drift", restore::DriftJson(r.drift)},
                   {"drift_counts", restore::DriftCountsJson(r.drift_counts)},
                   {"drift_checked", r.hash_cache_used},
                   {"verify", r.verify ? restore::VerifyJson(*r.verify) : nlohmann::json()},
                   {"digest", r.target_digest}});
  }
  return out;
}

// The statistics behind a probe's verdict, enough to reproduce it.
nlohmann::json ComparisonJson(const std::optional<drill::Comparison>& c) {
  if (!c) return nullptr;
  auto side = [](const drill::SideStats& s) {
    return nlohmann::json{{"n", s.n},
                          {"median_us", s.median},
                          {"p95_us", s.p95 ? nlohmann::json(*s.p95) : nlohmann::json(nullptr)},
                          {"outliers", s.outliers}};
  };
  nlohmann::json j = {{"verdict", drill::VerdictName(c->verdict)},
                      {"why", c->why},
                      {"primary", side(c->primary)},
                      {"standby", side(c->standby)}};
  if (c->ratio) {
    j["ratio"] = c->ratio->ratio;
    j["interval"] = {c->ratio->low, c->ratio->high};
    j["bootstrap"] = {{"resamples", c->ratio->resamples}, {"seed", c->ratio->seed}};
  }
  if (c->rank) j["rank_test"] = {{"u", c->rank->u}, {"p", c->rank->p}};
  return j;
}

nlohmann::json FindingsJson(const std::vector<drill::Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const drill::Finding& f : findings) {
    out.push_back({{"host", f.host},
                   {"kind", f.kind},
                   {"bearing", drill::BearingName(f.bearing)},
                   {"detail", f.what}});
  }
  return out;
}

nlohmann::json ProbesJson(const std::vector<drill::ProbeSummary>& probes) {
  nlohmann::json out = nlohmann::json::array();
  for (const drill::ProbeSummary& p : probes) {
    out.push_back({{"name", p.name},
                   {"decision", drill::VerdictName(p.decision)},
                   {"unexplained", p.unexplained},
                   {"primary_median_us", OptionalJson(p.primary_median_us)},
                   {"standby_median_us", OptionalJson(p.standby_median_us)},
                   {"primary_failures", p.primary_failures},
                   {"standby_failures", p.standby_failures},
                   {"verdict", p.verdict},
                   {"comparison", ComparisonJson(p.comparison)},
                   {"primary_history", ComparisonJson(p.history)},
                   {"findings", FindingsJson(p.findings)}});
  }
  return out;
}

// Each probe's verdict with its interval and sample counts, then what
// supports and what contradicts it.
void PrintProbes(const std::vector<drill::ProbeSummary>& probes) {
  if (probes.empty()) return;
  fmt::print("  comparison with the primary\n");
  for (const drill::ProbeSummary& p : probes) {
    std::string figures;
    if (p.comparison && p.comparison->ratio) {
      figures = fmt::format("  ratio {:.2f} [{:.2f}, {:.2f}], n {}/{}", p.comparison->ratio->ratio,
                            p.comparison->ratio->low, p.comparison->ratio->high,
                            p.comparison->standby.n, p.comparison->primary.n);
    } else if (p.comparison) {
      figures = fmt::format("  n {}/{}", p.comparison->standby.n, p.comparison->primary.n);
    }
    fmt::print("    {:<20} {}{}{}\n", p.name, drill::VerdictName(p.decision),
               p.unexplained ? " (unexplained)" : "", figures);
    fmt::print("      {}\n", p.verdict);
    for (const drill::Finding& f : p.findings) {
      fmt::print("      {:<11} {}: {}\n", drill::BearingName(f.bearing), f.host, f.what);
    }
  }
}

void PrintHeldOrOff(const drill::DrillSummary& s) {
  if (s.held) {
    fmt::print("  the standby is up, current and checked: ready to take over\n");
    fmt::print("  effective failover time now: {}\n", EffectiveFailover(s.outcome));
    fmt::print("  held until {}, then shut down and confirmed off (log: {})\n",
               LocalTime(s.hold_until_wall_ms), s.hold_log);
    if (s.hold_resync_ms > 0) {
      fmt::print("  brought current again every {} while held (standbyctl hold status)\n",
                 base::FormatDuration(base::Duration(s.hold_resync_ms)));
    }
    fmt::print("  standbyctl hold status | extend --standby {} --by 1h | release --standby {}\n",
               s.standby, s.standby);
  } else if (s.powered_on) {
    fmt::print("  standby {}\n", s.confirmed_off ? "confirmed off"
                                                 : "NOT confirmed off: check it now "
                                                   "(standbyctl power status)");
  }
}

}  // namespace

nlohmann::json DrillSummaryJson(const store::DrillRecord& record, const drill::DrillSummary& s) {
  nlohmann::json j = report::DrillRecordJson(record);
  if (s.held) j["result"] = "held";
  j["ready"] = s.held;
  j["hold_until"] = s.held ? nlohmann::json(base::Rfc3339(s.hold_until_wall_ms)) : nullptr;
  j["hold_until_ms"] = s.held ? nlohmann::json(s.hold_until_wall_ms) : nullptr;
  j["hold_resync_seconds"] =
      s.hold_resync_ms > 0 ? nlohmann::json(static_cast<double>(s.hold_resync_ms) / 1000) : nullptr;
  j["hold_log"] = report::TextOrNull(s.hold_log);
  j["rpo_from"] = report::TextOrNull(s.rpo_from);
  j["warnings"] = s.warnings;
  j["primary_unreachable"] = report::TextOrNull(s.primary_unreachable);
  j["confirmed_off"] = s.confirmed_off;
  j["off_steps"] = s.off_steps;
  j["lease_renewals"] = s.lease_renewals;
  j["phases"] = PhasesJson(s.phases);
  j["checks"] = ChecksJson(s.checks);
  j["restores"] = RestoresJson(s.restores);
  j["probes"] = ProbesJson(s.probes);
  return j;
}

std::function<void(const drill::PhaseView&)> LivePhaseView() {
  const auto start = std::chrono::steady_clock::now();
  return [start](const drill::PhaseView& p) {
    const double at =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (p.outcome == store::PhaseOutcome::kRunning) {
      fmt::print("[{:7.1f}s] {:<10} ...\n", at, p.name);
    } else {
      fmt::print("[{:7.1f}s] {:<10} {}{}{}\n", at, p.name, store::PhaseOutcomeName(p.outcome),
                 p.reason.empty() ? "" : ": ", p.reason);
    }
    std::fflush(stdout);
  };
}

void PrintDrillSummary(const drill::DrillSummary& s, const std::string& store_path) {
  const store::DrillOutcome& o = s.outcome;
  fmt::print("\n{} {} on {}: {}\n", drill::DrillKindName(s.kind), s.drill_id, s.standby,
             s.held ? "READY"
             : o.result == store::DrillResult::kPassed
                 ? "PASSED"
                 : fmt::format("{} in {}: {}",
                               o.result == store::DrillResult::kAborted ? "ABORTED" : "FAILED",
                               o.failed_phase, o.reason));
  fmt::print("  {:<12} {:>9}  {}\n", "PHASE", "TIME", "OUTCOME");
  for (const drill::PhaseView& p : s.phases) {
    fmt::print("  {:<12} {:>9}  {}{}{}\n", p.name,
               base::FormatDuration(base::Duration(p.duration_ms)),
               store::PhaseOutcomeName(p.outcome), p.reason.empty() ? "" : ": ", p.reason);
  }
  if (!s.checks.empty()) {
    fmt::print("  checks\n");
    for (const store::CheckResultRecord& c : s.checks) {
      fmt::print("    {:<20} {:<8} {:>7}  {}\n", c.name, store::CheckOutcomeName(c.outcome),
                 base::FormatDuration(base::Duration(c.duration_ms)), c.detail);
    }
  }
  for (const restore::RestoreReport& r : s.restores) {
    fmt::print("  restore {}\n", r.spec.target);
    for (const std::string& line : restore::DriftLines(r, "overwritten by the restore")) {
      fmt::print("    {}\n", line);
    }
    fmt::print("    read    {}\n", restore::VerifyWords(r));
  }
  PrintProbes(s.probes);
  if (!s.primary_unreachable.empty()) {
    fmt::print("  comparison with the primary: not made, the primary is unreachable ({})\n",
               s.primary_unreachable);
  }
  fmt::print("  RTO {}  boot {}  restore {}  RPO {}{}  exposure {}\n", Ms(o.rto_ms), Ms(o.boot_ms),
             Ms(o.restore_ms), Ms(o.rpo_ms), s.rpo_from.empty() ? "" : " (" + s.rpo_from + ")",
             Ms(o.exposure_ms));
  if (o.rto_ms || o.dns_ttl_ms) fmt::print("  effective failover time {}\n", EffectiveFailover(o));
  fmt::print("  primary footprint: {} connection{}, {} request{}\n", o.primary_connections,
             o.primary_connections == 1 ? "" : "s", o.primary_requests,
             o.primary_requests == 1 ? "" : "s");
  for (const std::string& w : s.warnings) fmt::print("  WARNING: {}\n", w);
  PrintHeldOrOff(s);
  fmt::print("  recorded as drill {} in {} (standbyctl history)\n", s.drill_id, store_path);
}

}  // namespace sb::cli
