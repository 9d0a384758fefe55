// `standbyctl drill --standby NAME [--json]`: one full drill (standby/drill/
// drill.h) with a live phase-by-phase view, a summary at the end, and the
// record in the state store. Exit 0 when it passed, 1 when it failed or was
// aborted, 2 when the standby is busy with another drill.

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "standby/cli/after_drill.h"
#include "standby/cli/command.h"
#include "standby/cli/drill_view.h"
#include "standby/cli/progress_view.h"
#include "standby/drill/drill.h"
#include "standby/drill/drill_lock.h"
#include "standby/drill/hold.h"
#include "standby/drill/live_ports.h"
#include "standby/power/agent_link.h"

namespace sb::cli {
namespace {

struct DrillArgs {
  std::string kind = "drill";  // or "prep"
  std::string standby;
  bool json = false;
  std::string trigger = "manual";
  std::string hold = "2h";  // prep only; checked by the option
  std::string resync;       // prep only: empty, or a duration checked by the option
};

// Starts `standbyctl hold serve` for a prep that passed, detached (its own
// session, output to a log), handing it the standby's lock. Waits until it
// has taken the lease over. Returns its log's path.
base::Result<std::string> StartHold(const config::Config& config, store::StateStore& store,
                                    drill::DrillLock& lock, int64_t drill_id,
                                    const config::StandbyConfig& standby, base::Duration hold,
                                    std::optional<base::Duration> resync) {
  store::HoldRecord record;
  record.drill_id = drill_id;
  record.standby = standby.name;
  const int64_t now = store::Timestamp::Now().wall_ms;
  record.limit_wall_ms = now + standby.max_hold.count();
  record.until_wall_ms = std::min(now + hold.count(), *record.limit_wall_ms);
  if (resync) record.resync_ms = resync->count();
  base::Status s = store.AddHold(record);
  if (!s.ok()) return s;
  const std::string dir = config.controller.state_dir + "/holds";
  s = base::MakeDirectories(dir, 0700);
  if (!s.ok()) return s;
  const std::string log = fmt::format("{}/{}.log", dir, drill_id);
  base::Result<int> fd = lock.InheritableFd();
  if (!fd.ok()) return fd.status();
  const std::vector<std::string> args = {SelfPath(),
                                         "--config",
                                         config.path,
                                         "hold",
                                         "serve",
                                         "--drill",
                                         std::to_string(drill_id),
                                         "--lock-fd",
                                         std::to_string(*fd)};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return base::Status::FromErrno("fork", errno);
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    ::setsid();
    int null = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) ::dup2(null, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Bounded wait: the hold says it has the lease by recording its pid.
  for (int i = 0; i < 300; ++i) {
    base::Result<store::HoldRecord> h = store.GetHold(drill_id);
    if (h.ok() && h->holder_pid) return log;
    if (h.ok() && h->ended_wall_ms) {
      return base::Status::Unavailable(fmt::format("the hold ended at once; see {}", log));
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return base::Status::Unavailable(
          fmt::format("the hold process exited before taking over; see {}", log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid, SIGTERM);
  return base::Status::Timeout(
      fmt::format("the hold process did not take over within 30s; see {}", log));
}

// A prep that passed but whose hold could not start: shut down now, and the
// prep failed.
void EndUnheldPrep(const drill::DrillEnv& env, const drill::DrillOptions& options,
                   const std::string& why, drill::DrillSummary* summary) {
  drill::PhaseLog phases(env.store, env.ports.clock, summary->drill_id, options.on_phase);
  drill::Ending ending;
  ending.outcome = summary->outcome;
  ending.outcome.result = store::DrillResult::kFailed;
  ending.outcome.failed_phase = "shutdown";
  ending.outcome.reason = "the hold could not start: " + why;
  base::Result<std::vector<store::PhaseRecord>> recorded = env.store.ListPhases(summary->drill_id);
  if (recorded.ok()) ending.power_on = drill::PowerOnOf(*recorded);
  drill::SetExposureLimit(env.standby, /*held=*/false, &ending);
  ending.off = drill::ShutDown(env, phases, options.poll_interval);
  base::Status s = drill::FinishDrill(env.store, summary->drill_id, ending, env.ports.clock.Now(),
                                      &summary->outcome);
  if (!s.ok()) fmt::print(stderr, "standbyctl: {}\n", s.message());
  summary->held = false;
  summary->confirmed_off = ending.off->confirmed;
  summary->off_steps = ending.off->steps;
  for (const drill::PhaseView& p : phases.ended()) summary->phases.push_back(p);
}

// A prep that passed: starts its hold, or ends the prep when it cannot.
void HandOverToHold(const config::Config& config, const drill::DrillEnv& env,
                    const drill::DrillOptions& options, drill::DrillLock& lock,
                    const DrillArgs& args, drill::DrillSummary* summary) {
  base::Result<base::Duration> parsed = base::ParseDuration(args.hold);  // checked by --hold
  const base::Duration hold = parsed.ok() ? *parsed : base::Duration(7'200'000);
  std::optional<base::Duration> resync;
  if (!args.resync.empty()) {
    base::Result<base::Duration> r = base::ParseDuration(args.resync);  // checked by --resync
    if (r.ok()) resync = *r;
  }
  base::Result<std::string> log =
      StartHold(config, env.store, lock, summary->drill_id, env.standby, hold, resync);
  if (log.ok()) {
    summary->hold_log = *log;
    summary->hold_until_wall_ms = store::Timestamp::Now().wall_ms + hold.count();
    if (resync) summary->hold_resync_ms = resync->count();
  } else {
    // Nobody holds it: shut it down now rather than leave it to the lease.
    fmt::print(stderr, "standbyctl: {}; shutting the standby down\n", log.status().message());
    EndUnheldPrep(env, options, log.status().message(), summary);
  }
}

int RunDrillCommand(const GlobalOptions& global, const DrillArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  if (args.kind == "prep") {
    base::Result<base::Duration> hold = base::ParseDuration(args.hold);  // checked by --hold
    if (hold.ok() && *hold > standby->max_hold) {
      fmt::print(stderr,
                 "standbyctl: --hold {} is longer than standby {}'s max_hold of {}; hold at most "
                 "that, or raise max_hold in {}\n",
                 args.hold, standby->name, base::FormatDuration(standby->max_hold), config->path);
      return kExitUsage;
    }
  }
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<std::unique_ptr<drill::DrillLock>> lock =
      drill::DrillLock::TryAcquire(config->controller.state_dir, standby->name);
  if (!lock.ok()) {
    if (lock.status().code() != base::Code::kUnavailable) return ReportError(lock.status());
    fmt::print(stderr, "standbyctl: {}; one drill per standby at a time\n",
               BusyMessage(**store, standby->name, config->controller.state_dir));
    return kExitUsage;
  }
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config->controller.tls);
  if (!tls.ok()) {
    fmt::print(stderr, "standbyctl: controller TLS: {}\n", tls.status().message());
    return kExitUsage;
  }
  power::AgentLink agent({standby->agent, standby->agent_name}, config->controller.tls);
  base::Result<std::unique_ptr<power::PowerDriver>> driver =
      power::MakePowerDriver(*standby, &agent);
  if (!driver.ok()) return ReportFailure(driver.status());

  StopSignals signals(fmt::format(
      "stopping the {} and shutting the standby down (SIGKILL leaves it on until the next "
      "standbyctl command)",
      args.kind));
  drill::DrillOptions options;
  options.stop = signals.flag();
  options.trigger = args.trigger;
  options.kind = args.kind == "prep" ? drill::DrillKind::kPrep : drill::DrillKind::kDrill;
  ProgressView progress;
  options.on_restore_progress = progress.Callback();
  if (!args.json) {
    // The live view says what the info log lines would; keep warnings.
    if (!global.log_level_given) spdlog::set_level(spdlog::level::warn);
    fmt::print("{} on {} (max exposure {})\n", args.kind, standby->name,
               base::FormatDuration(standby->max_exposure));
    options.on_phase = LivePhaseView();
  }
  drill::LivePorts ports(*standby, *tls);
  drill::DrillEnv env{*config, *standby, **store, **driver, agent, ports.ports()};
  base::Result<drill::DrillSummary> summary = drill::RunDrill(env, options);
  if (!summary.ok()) return ReportError(summary.status());
  if (summary->held) {
    HandOverToHold(*config, env, options, **lock, args, &*summary);
  }
  base::Result<store::DrillRecord> record = (*store)->GetDrill(summary->drill_id);
  if (!record.ok()) return ReportError(record.status());
  if (args.json) {
    fmt::print("{}\n", DrillSummaryJson(*record, *summary).dump(2));
  } else {
    PrintDrillSummary(*summary, (*store)->path());
  }
  if (summary->held) return kExitOk;  // the hold's `hold serve` ends it
  AfterDrill(*config, **store, summary->drill_id);
  return summary->outcome.result == store::DrillResult::kPassed ? kExitOk : kExitFailed;
}

// What drill and prep share: --standby, --json, and running the command.
std::shared_ptr<DrillArgs> AddDrillArgs(CLI::App* command, const std::string& kind,
                                        GlobalOptions& global, Action* action) {
  auto args = std::make_shared<DrillArgs>();
  args->kind = kind;
  command->add_option("--standby", args->standby, "The standby's name in the config")->required();
  command->add_flag("--json", args->json, "Print the summary as JSON (no live view)");
  command->callback([action, args, &global] {
    *action = [args, &global] { return RunDrillCommand(global, *args); };
  });
  return args;
}

}  // namespace

void AddDrillCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* drill = app.add_subcommand(
      "drill",
      "Run a drill: power the standby on, wait for its agent, take a lease, restore every "
      "mapping, run the smoke checks and the comparison with the primary, then power it off "
      "and confirm it. Every phase is recorded; SIGINT/SIGTERM, a failure or the standby's "
      "max_exposure go straight to the shutdown. Exit 0 passed, 1 failed or aborted, 2 busy "
      "or bad configuration.");
  std::shared_ptr<DrillArgs> args = AddDrillArgs(drill, "drill", global, action);
  drill
      ->add_option("--trigger", args->trigger,
                   "What the record names as the drill's cause (the daemon passes "
                   "schedule:NAME)")
      ->capture_default_str();
}

void AddPrepCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* prep = app.add_subcommand(
      "prep",
      "Failover prep: the drill's phases up to the comparison, then the standby stays up, its "
      "lease renewed by a background hold, until the hold runs out or `standbyctl hold "
      "release`; then it is shut down and confirmed off. Says whether the standby is ready "
      "and the effective failover time. Exit 0 ready, 1 not ready (the standby was shut "
      "down), 2 busy or bad configuration.");
  std::shared_ptr<DrillArgs> args = AddDrillArgs(prep, "prep", global, action);
  prep->add_option("--hold", args->hold,
                   "How long the standby stays up (at most the standby's max_hold, default 8h)")
      ->check([](const std::string& text) {
        base::Result<base::Duration> d = base::ParseDuration(text);
        if (!d.ok()) return d.status().message();
        if (*d < std::chrono::seconds(1) || *d > config::kMaxHoldLimit) {
          return std::string("the hold must be between 1s and 24h (and within max_hold)");
        }
        return std::string();
      })
      ->capture_default_str();
  prep->add_option("--resync", args->resync,
                   "While held, restore the newest backup again every this often (as the "
                   "restore phase does: all or nothing, verified); a failed round is reported "
                   "and tried again at the next interval. Default: never")
      ->check(ResyncIntervalError);
}

}  // namespace sb::cli
