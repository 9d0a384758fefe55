// `standbyctl report`: the recovery-time trend report (standby/report/), and
// `standbyctl metrics`: its figures for Prometheus' textfile collector.

#include <time.h>

#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "standby/cli/command.h"
#include "standby/report/metrics.h"
#include "standby/report/report_render.h"

namespace sb::cli {
namespace {

struct ReportOptions {
  std::string standby;
  std::string since;
  std::string format = "text";
  std::string output;  // empty: stdout
};

// "2026-01-31" (midnight UTC), "2026-01-31T12:00:00Z", or a duration back
// from now ("90d").
base::Result<int64_t> ParseSince(const std::string& text, int64_t now_ms) {
  base::Result<base::Duration> ago = base::ParseDuration(text);
  if (ago.ok()) return now_ms - ago->count();
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    tm = std::tm{};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  }
  if (end == nullptr || *end != '\0') {
    return base::Status::Invalid(fmt::format(
        "--since \"{}\": expected a date (2026-01-31), a UTC time (2026-01-31T12:00:00Z) or a "
        "duration back from now (90d)",
        text));
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int RunReport(const GlobalOptions& global, const ReportOptions& options) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const int64_t now = store::Timestamp::Now().wall_ms;
  report::ReportQuery query;
  query.standby = options.standby;
  if (!options.since.empty()) {
    base::Result<int64_t> since = ParseSince(options.since, now);
    if (!since.ok()) return ReportError(since.status());
    query.since_wall_ms = *since;
  }
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<report::Report> report = report::BuildReport(**store, *config, query, now);
  if (!report.ok()) return ReportError(report.status());
  // A standby is in the report when configured or when it has drills.
  if (report->standbys.empty() && !options.standby.empty()) {
    fmt::print(stderr,
               "standbyctl: no standby \"{}\" in {} and no drills of it in the state store\n",
               options.standby, config->path);
    return kExitUsage;
  }

  std::string text;
  if (options.format == "json") {
    text = report::ReportJson(*report).dump(2) + "\n";
  } else if (options.format == "csv") {
    text = report::RenderCsv(*report);
  } else if (options.format == "html") {
    text = report::RenderHtml(*report);
  } else {
    text = report::RenderText(*report);
  }
  if (options.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  base::Status wrote = base::WriteFileAtomically(options.output, text, 0644);
  if (!wrote.ok()) return ReportError(wrote);
  fmt::print("wrote the report ({} drills, {}) to {}\n", report->drills.size(), options.format,
             options.output);
  return kExitOk;
}

int RunMetrics(const GlobalOptions& global, const std::string& dir) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<report::Report> report =
      report::BuildReport(**store, *config, report::ReportQuery(), store::Timestamp::Now().wall_ms);
  if (!report.ok()) return ReportError(report.status());
  if (dir.empty()) {
    fmt::print("{}", report::RenderMetrics(*report, STANDBY_VERSION));
    return kExitOk;
  }
  base::Status wrote = report::WriteMetricsFile(dir, *report, STANDBY_VERSION);
  if (!wrote.ok()) return ReportError(wrote);
  return kExitOk;
}

}  // namespace

void AddReportCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* report = app.add_subcommand(
      "report",
      "The recovery-time report: each standby's verification status, and every drill's RTO "
      "by phase against the target, RPO, exposure, restore size, drift and regressions");
  auto options = std::make_shared<ReportOptions>();
  report->add_option("--standby", options->standby, "Only this standby");
  report->add_option("--since", options->since,
                     "Only drills started since a date (2026-01-31), a UTC time "
                     "(2026-01-31T12:00:00Z) or a duration ago (90d); the status and the "
                     "trend still use every drill");
  report
      ->add_option("--format", options->format,
                   "text (aligned tables), json, csv, or html (one self-contained file with "
                   "charts; use -o)")
      ->check(CLI::IsMember({"text", "json", "csv", "html"}))
      ->capture_default_str();
  report->add_option("-o,--output", options->output,
                     "Write to this file (atomically) instead of stdout");
  report->callback([action, options, &global] {
    *action = [options, &global] { return RunReport(global, *options); };
  });

  CLI::App* metrics =
      app.add_subcommand("metrics",
                         "Print the report's figures in Prometheus' text format, or write them to "
                         "DIR/standbyctl.prom for node_exporter's textfile collector");
  auto dir = std::make_shared<std::string>();
  metrics
      ->add_option("--textfile", *dir,
                   "Write DIR/standbyctl.prom atomically (mode 0644) instead of printing")
      ->check(CLI::ExistingDirectory);
  metrics->callback(
      [action, dir, &global] { *action = [dir, &global] { return RunMetrics(global, *dir); }; });
}

}  // namespace sb::cli
