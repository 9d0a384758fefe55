// `standbyctl config check [--strict] [--json] FILE`: validates a
// configuration file and prints every error as FILE:LINE:COL: message; what
// this machine lacks (config.h, machine_problems) as warnings, or errors
// with --strict.

#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "standby/cli/command.h"

namespace sb::cli {
namespace {

struct CheckArgs {
  std::string path;
  bool strict = false;
  bool json = false;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int CheckConfig(const CheckArgs& args) {
  const std::string& path = args.path;
  base::Result<config::Config> config = config::LoadConfig(path);
  if (!config.ok()) {
    if (args.json) {
      fmt::print("{}\n", nlohmann::json{{"file", path},
                                        {"ok", false},
                                        {"errors", Lines(config.status().message())},
                                        {"warnings", nlohmann::json::array()}}
                             .dump(2));
    } else {
      fmt::print(stderr, "{}\n", config.status().message());
    }
    return kExitUsage;
  }
  // What this machine lacks: warnings, or errors when strict.
  const std::vector<std::string>& machine = config->machine_problems;
  const bool failed = args.strict && !machine.empty();
  if (args.json) {
    nlohmann::json out = {{"file", path},
                          {"ok", !failed},
                          {"strict", args.strict},
                          {"errors", failed ? nlohmann::json(machine) : nlohmann::json::array()},
                          {"warnings", failed ? nlohmann::json::array() : nlohmann::json(machine)},
                          {"standbys", config->standbys.size()},
                          {"schedules", config->schedules.size()}};
    fmt::print("{}\n", out.dump(2));
    return failed ? kExitUsage : kExitOk;
  }
  for (const std::string& problem : machine) {
    const size_t colon = problem.find(": ");
    fmt::print(stderr, "{}: {}: {}\n", problem.substr(0, colon), failed ? "error" : "warning",
               problem.substr(colon + 2));
  }
  if (failed) {
    fmt::print(stderr, "{}: {} problem{} on this machine (--strict)\n", path, machine.size(),
               machine.size() == 1 ? "" : "s");
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
  fmt::print("{}: ok{} ({}, {}, {}{}, {}, {})\n", path,
             machine.empty() ? ""
                             : fmt::format(" with {} warning{} (--strict makes them errors)",
                                           machine.size(), machine.size() == 1 ? "" : "s"),
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
  auto args = std::make_shared<CheckArgs>();
  check->add_option("FILE", args->path, "The file to check (default: the --config file)");
  check->add_flag("--strict", args->strict,
                  "Also fail (exit 2) on what this machine lacks: backup sources, programs, TLS "
                  "files, password variables (otherwise warnings)");
  check->add_flag("--json", args->json, "Print the result as JSON");
  check->callback([action, args, &options] {
    *action = [args, &options] {
      CheckArgs resolved = *args;
      if (resolved.path.empty()) resolved.path = options.config_path;
      return CheckConfig(resolved);
    };
  });
}

}  // namespace sb::cli
