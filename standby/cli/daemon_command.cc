// `standbyctl daemon [--once]`: runs the config's schedules. At start it
// reconciles (as every command does), reads each schedule's state from the
// store, makes up a run missed within its grace (once), and then sleeps until
// the next due time. Each drill runs as a child `standbyctl drill` (its own
// process: a crash in a drill cannot take the daemon down, and the child's
// record and exposure guarantees are the drill's own). Drills run one at a
// time. SIGTERM/SIGINT: a running drill gets SIGTERM (it shuts its standby
// down), the daemon waits for it and exits.

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/subprocess.h"
#include "agent/base/units.h"
#include "standby/cli/after_drill.h"
#include "standby/cli/command.h"
#include "standby/schedule/next_run.h"
#include "standby/schedule/scheduler.h"

namespace sb::cli {
namespace {

struct DaemonArgs {
  bool once = false;
};

int64_t NowMs() { return store::Timestamp::Now().wall_ms; }

// Waits up to `ms` for SIGTERM, SIGINT or SIGHUP (blocked by the caller);
// returns the signal or 0.
int WaitForSignal(const sigset_t& set, int64_t ms) {
  ms = std::clamp<int64_t>(ms, 0, 30'000);  // wake regularly: the wall clock may jump
  timespec wait{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1'000'000};
  int sig = ::sigtimedwait(&set, nullptr, &wait);
  return sig > 0 ? sig : 0;
}

class Daemon {
 public:
  Daemon(const GlobalOptions& global, const config::Config& config, store::StateStore& store)
      : global_(global),
        config_(config),
        store_(store),
        scheduler_(config.schedules, [this](int64_t max) {
          return std::uniform_int_distribution<int64_t>(0, max)(rng_);
        }) {
    sigemptyset(&signals_);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals_, sig);
  }

  int Run(bool once) {
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    base::Result<std::vector<store::ScheduleStateRecord>> stored = store_.ListScheduleStates();
    if (!stored.ok()) return ReportError(stored.status());
    base::Status loaded = scheduler_.Load(*stored, NowMs());
    if (!loaded.ok()) return ReportError(loaded);
    if (!Persist()) return kExitInternal;
    for (const config::Schedule& s : config_.schedules) {
      spdlog::info(
          "schedule {}: drill {} at \"{}\" ({}); next {}", s.name, s.standby, s.cron, s.timezone,
          schedule::FormatLocal(scheduler_.states().at(s.name).next_due_wall_ms, s.timezone));
    }
    if (config_.schedules.empty()) {
      spdlog::warn("{} has no [[schedule]]: nothing to run", config_.path);
      if (once) return kExitOk;
    }
    int failures = 0;
    for (;;) {
      base::Result<schedule::Tick> tick = scheduler_.Due(NowMs());
      if (!tick.ok()) return ReportError(tick.status());
      for (const std::string& skipped : tick->skipped) {
        spdlog::warn("{}", skipped);
        (void)store_.AddEvent(std::nullopt, "warn", skipped, NowMs());
      }
      if (!tick->changed.empty() && !Persist()) return kExitInternal;
      for (const schedule::DueRun& run : tick->run) {
        if (stop_ != 0) break;
        if (!RunDrill(run)) ++failures;
        if (!Persist()) return kExitInternal;
      }
      if (stop_ != 0 || once) break;
      // The textfile's ages and staleness move with the clock, not only
      // when a drill ends.
      if (!config_.controller.metrics_dir.empty() && NowMs() >= next_metrics_ms_) {
        RefreshMetrics(config_, store_);
        next_metrics_ms_ = NowMs() + kMetricsEveryMs;
      }
      const int64_t wake = scheduler_.NextWake();
      spdlog::debug("sleeping until {}", schedule::FormatLocal(wake, "UTC"));
      const int sig = WaitForSignal(signals_, wake - NowMs());
      if (sig == SIGHUP) {
        spdlog::warn("SIGHUP: restart the daemon to read a changed config (it keeps running)");
      } else if (sig != 0) {
        stop_ = sig;
      }
      if (stop_ != 0) break;
    }
    if (stop_ != 0) spdlog::info("stopping: {}", stop_ == SIGINT ? "SIGINT" : "SIGTERM");
    return once && failures > 0 ? kExitFailed : kExitOk;
  }

 private:
  bool Persist() {
    for (const auto& [name, state] : scheduler_.states()) {
      base::Status s = store_.PutScheduleState(state);
      if (!s.ok()) {
        ReportError(s);
        return false;
      }
    }
    return true;
  }

  // Runs one drill as a child process; true when it passed.
  bool RunDrill(const schedule::DueRun& run) {
    const config::StandbyConfig* standby = config_.FindStandby(run.standby);
    const config::Schedule* schedule = nullptr;
    for (const config::Schedule& s : config_.schedules) {
      if (s.name == run.schedule) schedule = &s;
    }
    spdlog::info("schedule {}: drill on {}{}", run.schedule, run.standby,
                 run.late ? fmt::format(" (made up: it was due at {})",
                                        schedule::FormatLocal(run.due_wall_ms, schedule->timezone))
                          : "");
    base::ProcessSpec spec;
    spec.argv = {
        SelfPath(),  "--config",  config_.path, "--log-format", global_.log_format,        "drill",
        "--standby", run.standby, "--json",     "--trigger",    "schedule:" + run.schedule};
    // The drill bounds itself (max_exposure, then shutdown); this is a backstop.
    spec.timeout = standby->max_exposure + 2 * standby->shutdown_timeout + std::chrono::minutes(10);
    spec.max_output_bytes = 4 << 20;
    std::atomic<pid_t> child{0};
    spec.on_start = [&child](pid_t pid) { child = pid; };
    std::optional<base::Result<base::ProcessResult>> result;
    std::atomic<bool> done{false};
    std::thread worker([&] {
      result = base::RunProcess(spec);
      done = true;
    });
    bool forwarded = false;
    while (!done.load()) {
      const int sig = WaitForSignal(signals_, 200);
      if ((sig == SIGTERM || sig == SIGINT) && stop_ == 0) stop_ = sig;
      if (stop_ != 0 && !forwarded && child.load() > 0) {
        spdlog::warn("stopping: the running drill gets SIGTERM and shuts its standby down first");
        ::kill(-child.load(), SIGTERM);
        forwarded = true;
      }
    }
    worker.join();
    if (!result->ok()) {
      spdlog::error("schedule {}: could not start the drill: {}", run.schedule,
                    result->status().message());
      scheduler_.Ran(run.schedule, NowMs(), std::nullopt);
      return false;
    }
    const base::ProcessResult& r = **result;
    if (!r.err.empty()) fmt::print(stderr, "{}", r.err);  // the drill's own log lines
    std::optional<int64_t> drill_id;
    std::string outcome = r.Describe();
    try {
      nlohmann::json summary = nlohmann::json::parse(r.out);
      drill_id = summary.at("id").get<int64_t>();
      outcome = summary.at("result").get<std::string>();
      if (outcome != "passed") {
        outcome += fmt::format(" in {}: {}", summary.value("failed_phase", ""),
                               summary.value("reason", ""));
      }
    } catch (const nlohmann::json::exception&) {
      // No summary: the drill ended abnormally; reconciliation closes its record.
      Reconcile(config_, "standbyctl daemon");
    }
    scheduler_.Ran(run.schedule, NowMs(), drill_id);
    if (r.exit_code == 0) {
      spdlog::info("schedule {}: drill {} passed", run.schedule, drill_id.value_or(0));
      return true;
    }
    spdlog::error("schedule {}: drill {} {}", run.schedule,
                  drill_id ? std::to_string(*drill_id) : "(no record)", outcome);
    return false;
  }

  const GlobalOptions& global_;
  const config::Config& config_;
  store::StateStore& store_;
  std::mt19937_64 rng_{std::random_device{}()};
  schedule::Scheduler scheduler_;
  sigset_t signals_{};
  int stop_ = 0;
  static constexpr int64_t kMetricsEveryMs = 300'000;  // 5 minutes
  int64_t next_metrics_ms_ = 0;
};

int RunDaemon(const GlobalOptions& global, const DaemonArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  // Unattended drills must not find out a month later that a source or a
  // program is missing here: the daemon starts only on a strict check.
  if (!config->machine_problems.empty()) {
    for (const std::string& problem : config->machine_problems) {
      fmt::print(stderr, "{}\n", problem);
    }
    fmt::print(stderr,
               "standbyctl: the daemon does not start while this machine lacks what {} names "
               "(standbyctl config check --strict)\n",
               config->path);
    return kExitUsage;
  }
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  Daemon daemon(global, *config, **store);
  return daemon.Run(args.once);
}

}  // namespace

void AddDaemonCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* daemon = app.add_subcommand(
      "daemon",
      "Run the config's [[schedule]] drills: each at its next cron time in its time zone plus "
      "its random delay; a run missed while the daemon was down is made up once at start-up "
      "when within its grace. Drills run one at a time, each as a child `standbyctl drill`. "
      "SIGTERM lets a running drill shut its standby down first.");
  auto args = std::make_shared<DaemonArgs>();
  daemon->add_flag("--once", args->once,
                   "Run what is due now (including missed runs within grace), then exit; exit "
                   "1 when a drill failed");
  daemon->callback(
      [action, args, &global] { *action = [args, &global] { return RunDaemon(global, *args); }; });
}

}  // namespace sb::cli
