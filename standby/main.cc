// standbyctl: the controller. Wires the subcommands together; each lives in
// standby/cli/.

#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "agent/base/log.h"
#include "standby/cli/command.h"

namespace {

constexpr const char* kDescription =
    "standbyctl proves that a cold standby server can take over: it powers the standby on, "
    "restores the latest backup into it, checks it, records the recovery time and powers it "
    "off again.\n\n"
    "Exit codes: 0 success, 1 a drill or check failed, 2 usage or configuration error, "
    "3 internal error.";

int Run(int argc, char** argv) {
  CLI::App app(kDescription, "standbyctl");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("standbyctl ") + STANDBY_VERSION);
  app.set_help_all_flag("--help-all", "Print help for every subcommand");

  sb::cli::GlobalOptions options;
  app.add_option("--config", options.config_path,
                 "Configuration file (environment: STANDBYCTL_CONFIG)")
      ->envname("STANDBYCTL_CONFIG")
      ->capture_default_str();
  app.add_option("--log-format", options.log_format,
                 "Log lines on stderr as text, json, or journal (syslog priorities for "
                 "journald; the default when stderr is the journal)")
      ->check(CLI::IsMember({"text", "json", "journal"}))
      ->capture_default_str();
  app.add_option("--log-level", options.log_level, "Least severe log level shown")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();

  sb::cli::Action action;
  sb::cli::AddConfigCommand(app, options, &action);
  sb::cli::AddHistoryCommand(app, options, &action);
  sb::cli::AddReportCommand(app, options, &action);
  sb::cli::AddPkiCommand(app, options, &action);
  sb::cli::AddAgentCommand(app, options, &action);
  sb::cli::AddPowerCommand(app, options, &action);
  sb::cli::AddRestoreCommand(app, options, &action);
  sb::cli::AddVerifyCommand(app, options, &action);
  sb::cli::AddDrillCommand(app, options, &action);
  sb::cli::AddPrepCommand(app, options, &action);
  sb::cli::AddHoldCommand(app, options, &action);
  sb::cli::AddCheckCommand(app, options, &action);
  sb::cli::AddCanaryCommand(app, options, &action);
  sb::cli::AddDaemonCommand(app, options, &action);
  sb::cli::AddCompletionCommand(app, options, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped subcommand as a missing one; name it instead.
    std::vector<std::string> extra = app.remaining();
    if (!extra.empty() && app.get_subcommands().empty() && extra[0][0] != '-') {
      std::fprintf(stderr, "standbyctl: unknown command \"%s\"; run standbyctl --help\n",
                   extra[0].c_str());
      return sb::cli::kExitUsage;
    }
    int code = app.exit(e);  // prints help, version or the error
    return code == 0 ? sb::cli::kExitOk : sb::cli::kExitUsage;
  }
  const sb::base::LogFormat format =
      sb::base::ChooseLogFormat(options.log_format, app.get_option("--log-format")->count() > 0);
  if (format == sb::base::LogFormat::kJournal) options.log_format = "journal";
  sb::base::Status s = sb::base::InitLogging("standbyctl", format, options.log_level);
  if (!s.ok()) return sb::cli::ReportError(s);
  if (!action) return sb::cli::kExitUsage;  // a group without its subcommand
  for (const CLI::App* sub : app.get_subcommands()) options.command += " " + sub->get_name();
  options.log_level_given = app.get_option("--log-level")->count() > 0;
  return action();
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error value, not a death
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "standbyctl: internal error: %s\n", e.what());
    return sb::cli::kExitInternal;
  }
}
