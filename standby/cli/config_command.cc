// `standbyctl config check FILE`: validates a configuration file and prints
// every error as FILE:LINE:COL: message.

#include <fmt/format.h>
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
  for (const config::StandbyConfig& s : config->standbys) {
    checks += s.checks.size();
    probes += s.probes.size();
    restores += s.restores.size();
  }
  fmt::print("{}: ok ({} standby, {} restore mapping, {} smoke check, {} probe, {} schedule)\n",
             path, config->standbys.size(), restores, checks, probes, config->schedules.size());
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
