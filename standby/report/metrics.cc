#include "standby/report/metrics.h"

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/sync/drift.h"

namespace sb::report {
namespace {

// A label value as the exposition format wants it.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Family {
 public:
  Family(std::string name, std::string help, std::string type = "gauge")
      : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)) {}
  void Add(std::string labels, double value) {
    lines_ += fmt::format("{}{{{}}} {}\n", name_, labels, value);
  }
  std::string Render() const {
    if (lines_.empty()) return "";
    return fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", name_, help_, name_, type_, lines_);
  }

 private:
  std::string name_, help_, type_, lines_;
};

}  // namespace

std::string RenderMetrics(const Report& report, std::string_view version) {
  Family build("standbyctl_build_info", "The standbyctl that wrote these metrics.");
  build.Add(fmt::format("version=\"{}\"", Label(version)), 1);
  Family last_run("standbyctl_drill_last_run_timestamp_seconds",
                  "When the standby's last drill or prep started (Unix time).");
  Family last_success("standbyctl_drill_last_success_timestamp_seconds",
                      "When the standby's last passed drill or prep started (Unix time).");
  Family success("standbyctl_drill_success",
                 "1 when the standby's last finished drill or prep passed, else 0.");
  Family rto("standbyctl_rto_seconds",
             "The last passed drill's recovery time by phase; phase=\"total\" is the RTO.");
  Family rto_target("standbyctl_rto_target_seconds", "The standby's rto_target.");
  Family rpo("standbyctl_rpo_seconds", "The last passed drill's recovery point (backup age).");
  Family rpo_target("standbyctl_rpo_target_seconds", "The standby's rpo_target.");
  Family exposure("standbyctl_exposure_seconds",
                  "How long the last finished drill had the standby powered on.");
  Family age("standbyctl_verification_age_seconds",
             "Seconds since the standby's last passed drill or prep started, when written.");
  Family within("standbyctl_verify_within_seconds",
                "The standby's verify_within: how old its last pass may be.");
  Family stale("standbyctl_verification_stale",
               "1 when the standby is not verified: its last pass is older than verify_within, "
               "ran under another configuration, or never happened.");
  Family drift("standbyctl_drift_files",
               "Paths the last finished drill found changed on the cold standby, by kind.");

  for (const StandbyStatus& s : report.standbys) {
    // A standby taken out of the configuration is not expected to be
    // drilled any more; its series would alert forever.
    if (!s.configured) continue;
    const std::string standby = fmt::format("standby=\"{}\"", Label(s.name));
    const DrillRow* last_finished = nullptr;
    const DrillRow* last_passed = nullptr;
    for (const DrillRow& row : report.drills) {
      const store::DrillRecord& r = row.d.record;
      if (r.start.standby != s.name || r.outcome.result == store::DrillResult::kRunning) continue;
      last_finished = &row;
      if (r.outcome.result == store::DrillResult::kPassed) last_passed = &row;
    }
    if (s.last_run_wall_ms) last_run.Add(standby, Seconds(*s.last_run_wall_ms));
    if (s.last_passed_wall_ms) last_success.Add(standby, Seconds(*s.last_passed_wall_ms));
    if (last_finished) {
      const store::DrillRecord& r = last_finished->d.record;
      success.Add(standby, r.outcome.result == store::DrillResult::kPassed ? 1 : 0);
      if (r.outcome.exposure_ms) exposure.Add(standby, Seconds(*r.outcome.exposure_ms));
      for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
        drift.Add(fmt::format("{},kind=\"{}\"", standby,
                              sync::DriftKindName(static_cast<sync::DriftKind>(k))),
                  static_cast<double>(last_finished->d.drift[k]));
      }
    }
    if (last_passed) {
      const store::DrillOutcome& o = last_passed->d.record.outcome;
      for (const char* part : kRtoParts) {
        std::optional<int64_t> ms = last_passed->PhaseMs(part);
        if (!ms) continue;
        std::string phase(part);
        for (char& c : phase) c = c == ' ' ? '_' : c;
        rto.Add(fmt::format("{},phase=\"{}\"", standby, phase), Seconds(*ms));
      }
      if (o.rto_ms) rto.Add(fmt::format("{},phase=\"total\"", standby), Seconds(*o.rto_ms));
      if (o.rpo_ms) rpo.Add(standby, Seconds(*o.rpo_ms));
    }
    if (s.rto_target_ms) rto_target.Add(standby, Seconds(*s.rto_target_ms));
    if (s.rpo_target_ms) rpo_target.Add(standby, Seconds(*s.rpo_target_ms));
    if (s.age_ms) age.Add(standby, Seconds(*s.age_ms));
    within.Add(standby, Seconds(s.verify_within_ms));
    stale.Add(standby, s.verification == Verification::kVerified ? 0 : 1);
  }
  std::string out;
  for (const Family* f : {&build, &last_run, &last_success, &success, &rto, &rto_target, &rpo,
                          &rpo_target, &exposure, &age, &within, &stale, &drift}) {
    out += f->Render();
  }
  return out;
}

base::Status WriteMetricsFile(const std::string& dir, const Report& report,
                              std::string_view version) {
  return base::WriteFileAtomically(dir + "/standbyctl.prom", RenderMetrics(report, version), 0644);
}

}  // namespace sb::report
