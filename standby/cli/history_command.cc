// `standbyctl history`: the recorded drills, newest first, as a table or JSON;
// `standbyctl history show ID`: one drill in full.

#include <ctime>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/units.h"
#include "standby/cli/command.h"
#include "standby/cli/drill_view.h"
#include "standby/report/report_render.h"

namespace sb::cli {
namespace {

struct HistoryOptions {
  bool json = false;
  std::string standby;
  int limit = 50;
};

std::string OptionalDuration(const std::optional<int64_t>& ms) {
  return ms ? base::FormatDuration(base::Duration(*ms)) : "-";
}

void PrintTable(const std::vector<store::DrillRecord>& drills) {
  constexpr std::string_view kRow = "{:>5}  {:<20} {:<5}  {:<19}  {:<7}  {:>9}  {:>9}  {}\n";
  fmt::print(fmt::runtime(kRow), "ID", "STANDBY", "KIND", "STARTED (UTC)", "RESULT", "RTO",
             "EXPOSURE", "REASON");
  for (const store::DrillRecord& d : drills) {
    std::string reason = d.outcome.reason;
    if (!d.outcome.failed_phase.empty()) {
      reason = fmt::format("{}: {}", d.outcome.failed_phase, reason);
    }
    std::string row = fmt::format(
        fmt::runtime(kRow), d.id, d.start.standby, d.start.kind, UtcTime(d.start.at.wall_ms),
        store::DrillResultName(d.outcome.result), OptionalDuration(d.outcome.rto_ms),
        OptionalDuration(d.outcome.exposure_ms), reason);
    while (row.size() > 1 && row[row.size() - 2] == ' ') row.erase(row.size() - 2, 1);
    fmt::print("{}", row);
  }
}

int ShowHistory(const GlobalOptions& global, const HistoryOptions& options) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<std::vector<store::DrillRecord>> drills =
      (*store)->ListDrills({options.standby, options.limit});
  if (!drills.ok()) return ReportError(drills.status());

  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const store::DrillRecord& d : *drills) out.push_back(report::DrillRecordJson(d));
    fmt::print("{}\n", out.dump(2));
    return kExitOk;
  }
  if (drills->empty()) {
    if (options.standby.empty()) {
      fmt::print("no drills recorded yet (state store {})\n", (*store)->path());
    } else {
      fmt::print("no drills recorded yet for standby {} (state store {})\n", options.standby,
                 (*store)->path());
    }
    return kExitOk;
  }
  PrintTable(*drills);
  return kExitOk;
}

int ShowDrill(const GlobalOptions& global, int64_t id, bool json) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<report::DrillInFull> drill = report::ReadDrillInFull(**store, id);
  if (!drill.ok()) {
    if (drill.status().code() == base::Code::kNotFound) {
      fmt::print(stderr, "{} (see `standbyctl history` for the recorded drills)\n",
                 drill.status().message());
      return kExitUsage;
    }
    return ReportError(drill.status());
  }
  if (json) {
    fmt::print("{}\n", report::DrillInFullJson(*drill).dump(2));
  } else {
    fmt::print("{}", report::RenderDrillInFull(*drill));
  }
  return kExitOk;
}

}  // namespace

void AddHistoryCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* history = app.add_subcommand(
      "history", "List recorded drills, newest first, with result, RTO and exposure window");
  auto options = std::make_shared<HistoryOptions>();
  history->add_flag("--json", options->json, "Print a JSON array instead of a table");
  history->add_option("--standby", options->standby, "Only drills of this standby");
  history->add_option("--limit", options->limit, "At most this many drills")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  history->require_subcommand(0, 1);
  history->callback([action, options, &global, history] {
    if (!history->get_subcommands().empty()) return;
    *action = [options, &global] { return ShowHistory(global, *options); };
  });

  CLI::App* show = history->add_subcommand(
      "show",
      "One drill in full: phases with start, end and outcome, checks with what they measured, "
      "probe verdicts and findings, restores with their drift paths, RTO, RPO, exposure and "
      "the configuration digest it ran with");
  auto id = std::make_shared<int64_t>(0);
  auto show_json = std::make_shared<bool>(false);
  show->add_option("ID", *id, "The drill's id (the first column of `standbyctl history`)")
      ->required()
      ->check(CLI::PositiveNumber);
  show->add_flag("--json", *show_json, "Print JSON instead of text");
  show->callback([action, id, show_json, &global] {
    *action = [id, show_json, &global] { return ShowDrill(global, *id, *show_json); };
  });
}

}  // namespace sb::cli
