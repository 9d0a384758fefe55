// `standbyctl config check FILE`: validates a configuration file and prints
// every error as FILE:LINE:COL: message.

#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "standby/cli/command.h"

namespace sb::cli {
namespace {

int CheckConfig(const std::string& path) {
  base::Result<config::Config> config = config::LoadConfig(path);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.status().message());
    return kExitUsage;
  }
  size_t checks = 0, probes = 0, restores = 0;
  std::set<std::string_view> kinds;
  for (const config::StandbyConfig& s : config->standbys) {
    checks += s.checks.size();
    probes += s.probes.size();
    restores += s.restores.size();
    for (const config::SmokeCheck& c : s.checks) kinds.insert(config::CheckKindName(c.kind));
  }
  auto count = [](size_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  fmt::print("{}: ok ({}, {}, {}{}, {}, {})\n", path,
             count(config->standbys.size(), "standby", "standbys"),
             count(restores, "restore mapping", "restore mappings"),
             count(checks, "smoke check", "smoke checks"),
             kinds.empty() ? "" : fmt::format(" ({})", fmt::join(kinds, ", ")),
             count(probes, "probe", "probes"),
             count(config->schedules.size(), "schedule", "schedules"));
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, GlobalOptions& options, Action* action) {
  CLI::App* config = app.add_subcommand("config", "Work with configuration files");
  config->require_subcommand(1);
  CLI::App* check = config->add_subcommand(
      "check",
      "Validate a configuration file; print every error as FILE:LINE:COL: message and exit 2 "
      "when there is any");
  auto path = std::make_shared<std::string>();
  check->add_option("FILE", *path, "The file to check (default: the --config file)");
  check->callback([action, path, &options] {
    *action = [path, &options] { return CheckConfig(path->empty() ? options.config_path : *path); };
  });
}

}  // namespace sb::cli
