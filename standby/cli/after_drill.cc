#include "standby/cli/after_drill.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/subprocess.h"
#include "agent/base/units.h"
#include "standby/report/metrics.h"
#include "standby/report/report_render.h"

namespace sb::cli {
namespace {

void LogEnd(const store::DrillRecord& r) {
  const store::DrillOutcome& o = r.outcome;
  if (o.result == store::DrillResult::kPassed) {
    spdlog::info("{} {} of {} passed; RTO {}", r.start.kind, r.id, r.start.standby,
                 o.rto_ms ? base::FormatDuration(base::Duration(*o.rto_ms)) : "not measured");
    return;
  }
  if (o.result == store::DrillResult::kRunning) return;  // a held prep: its hold ends it
  spdlog::error("{} {} of {} {} in {}: {}", r.start.kind, r.id, r.start.standby,
                store::DrillResultName(o.result),
                o.failed_phase.empty() ? "an unknown phase" : o.failed_phase,
                o.reason.empty() ? "no reason recorded" : o.reason);
}

void RunOnFailure(const config::Config& config, store::StateStore& store,
                  const store::DrillRecord& r) {
  const std::vector<std::string>& argv = config.controller.on_failure;
  if (argv.empty()) return;
  base::Result<report::DrillInFull> full = report::ReadDrillInFull(store, r.id);
  if (!full.ok()) {
    spdlog::error("on_failure not run for drill {}: {}", r.id, full.status().message());
    return;
  }
  base::ProcessSpec spec;
  spec.argv = argv;
  spec.stdin_data = report::DrillInFullJson(*full).dump(2) + "\n";
  spec.env = {{"STANDBYCTL_DRILL_ID", std::to_string(r.id)},
              {"STANDBYCTL_STANDBY", r.start.standby},
              {"STANDBYCTL_RESULT", std::string(store::DrillResultName(r.outcome.result))},
              {"STANDBYCTL_FAILED_PHASE", r.outcome.failed_phase}};
  spec.timeout = config.controller.on_failure_timeout;
  base::Result<base::ProcessResult> ran = base::RunProcess(spec);
  if (!ran.ok()) {
    spdlog::error("on_failure {} for drill {}: {}", argv[0], r.id, ran.status().message());
  } else if (!ran->success()) {
    std::string err = ran->err.substr(0, 500);
    while (!err.empty() && err.back() == '\n') err.pop_back();
    spdlog::error("on_failure {} for drill {}: {}{}", argv[0], r.id, ran->Describe(),
                  err.empty() ? "" : ": " + err);
  } else {
    spdlog::info("on_failure {} ran for drill {}", argv[0], r.id);
  }
}

}  // namespace

void RefreshMetrics(const config::Config& config, store::StateStore& store) {
  if (config.controller.metrics_dir.empty()) return;
  base::Result<report::Report> report =
      report::BuildReport(store, config, report::ReportQuery(), store::Timestamp::Now().wall_ms);
  base::Status wrote = report.ok() ? report::WriteMetricsFile(config.controller.metrics_dir,
                                                              *report, STANDBY_VERSION)
                                   : report.status();
  if (!wrote.ok()) {
    spdlog::error("metrics_dir {}: standbyctl.prom not updated: {}", config.controller.metrics_dir,
                  wrote.message());
  }
}

void AfterDrill(const config::Config& config, store::StateStore& store, int64_t drill_id) {
  base::Result<store::DrillRecord> r = store.GetDrill(drill_id);
  if (!r.ok()) {
    spdlog::error("after drill {}: {}", drill_id, r.status().message());
    return;
  }
  LogEnd(*r);
  RefreshMetrics(config, store);
  if (r->outcome.result == store::DrillResult::kFailed ||
      r->outcome.result == store::DrillResult::kAborted) {
    RunOnFailure(config, store, *r);
  }
}

}  // namespace sb::cli
