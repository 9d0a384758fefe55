// What every standbyctl subcommand shares: the global options, the exit codes
// the README documents, and loading the config and the state store the way
// every command does. Used from the main thread only.

#ifndef STANDBY_CLI_COMMAND_H_
#define STANDBY_CLI_COMMAND_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "agent/base/status.h"
#include "standby/config/config.h"
#include "standby/drill/drill_lock.h"
#include "standby/store/state_store.h"

namespace CLI {
class App;
}

namespace sb::cli {

// The process exit codes; documented in the README and in --help.
enum ExitCode : int {
  kExitOk = 0,        // success; a drill or check passed
  kExitFailed = 1,    // a drill or check ran and failed
  kExitUsage = 2,     // bad command line or bad configuration
  kExitInternal = 3,  // anything else: the store, the system, a bug
};

struct GlobalOptions {
  std::string config_path = config::kDefaultConfigPath;  // or $STANDBYCTL_CONFIG
  std::string log_format = "text";
  std::string log_level = "info";
  bool log_level_given = false;        // --log-level was on the command line
  std::string command = "standbyctl";  // "standbyctl drill": set once parsed
};

// A parsed subcommand's work, set by its CLI11 callback and run by main once
// logging is set up. Returns the exit code.
using Action = std::function<int()>;

// Loads the config named by the global options. On failure prints every
// error to stderr and returns nullopt; the caller exits with kExitUsage.
std::optional<config::Config> LoadConfigOrReport(const GlobalOptions& options);

// Reconciliation (standby/drill/reconcile.h), which LoadConfigOrReport runs
// for every command: drills a dead controller left are closed and their
// standbys powered off. Reports on stderr; never fails the command.
void Reconcile(const config::Config& config, const std::string& command);

// Opens the state store in the config's state directory, creating the
// directory (mode 0700) when absent.
base::Result<std::unique_ptr<store::StateStore>> OpenStateStore(const config::Config& config);

// Prints `status` as one line on stderr and returns the matching exit code:
// kExitUsage for bad input, kExitInternal for the rest.
int ReportError(const base::Status& status);

// The same for commands that act on a host (power, agent): bad input is
// kExitUsage, and anything else means the action failed, kExitFailed.
int ReportFailure(const base::Status& status);

// The standby called `name`, or nullptr after saying on stderr that the
// config has none.
const config::StandbyConfig* FindStandbyOrReport(const config::Config& config,
                                                 const std::string& name);

// Why `standby`'s drill lock is taken: the drill or prep that runs (with
// its pid), or the lock file when the store names none.
std::string BusyMessage(store::StateStore& store, const std::string& standby,
                        const std::string& state_dir);

// The standby's drill lock for a manual command that acts on it (`what`:
// "power off", "restore"), so that it cannot cut into a drill or a hold.
// When the lock is taken: refused (nullopt, after saying which drill holds
// it and that --force goes on anyway; the caller exits kExitUsage), or,
// with `force`, a warning and a null lock.
std::optional<std::unique_ptr<drill::DrillLock>> LockForManualCommand(const config::Config& config,
                                                                      store::StateStore& store,
                                                                      const std::string& standby,
                                                                      bool force,
                                                                      const std::string& what);

// Why `text` is not a hold's resync interval (a duration of 1s or more);
// empty when it is. A CLI11 check.
std::string ResyncIntervalError(const std::string& text);

// The running standbyctl binary, for the child processes it starts (the
// daemon's drills, a prep's hold).
std::string SelfPath();

// "2026-12-01 03:00:00 CET": a wall time in the local time zone.
std::string LocalTime(int64_t wall_ms);
// "2026-12-01 02:00:00": the same in UTC, without the zone's name.
std::string UtcTime(int64_t wall_ms);

// SIGINT and SIGTERM, blocked in every thread and taken by one thread with
// sigtimedwait, so that a drill or a hold can shut its standby down instead
// of dying with it on. The first one prints `notice` and sets flag(); the
// signal mask is restored when the object goes.
class StopSignals {
 public:
  explicit StopSignals(std::string notice);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  const std::atomic<int>* flag() const { return &stop_; }

 private:
  sigset_t set_{}, old_{};
  std::string notice_;
  std::atomic<int> stop_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Each subcommand registers itself on `app` and sets `*action` when chosen.
void AddConfigCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddHistoryCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddPkiCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddAgentCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddPowerCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddRestoreCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddVerifyCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddDrillCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddDaemonCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddPrepCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddHoldCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddCheckCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddCanaryCommand(CLI::App& app, GlobalOptions& options, Action* action);
void AddReportCommand(CLI::App& app, GlobalOptions& options, Action* action);
// Added last: it prints the tree the others made.
void AddCompletionCommand(CLI::App& app, GlobalOptions& options, Action* action);

}  // namespace sb::cli

#endif  // STANDBY_CLI_COMMAND_H_
