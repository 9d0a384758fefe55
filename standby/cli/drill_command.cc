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
#include "standby/cli/command.h"
#include "standby/drill/drill.h"
#include "standby/drill/drill_lock.h"
#include "standby/drill/hold.h"
#include "standby/power/agent_link.h"

namespace sb::cli {
namespace {

struct DrillArgs {
  std::string kind = "drill";  // or "prep"
  std::string standby;
  bool json = false;
  std::string trigger = "manual";
  std::string hold = "2h";  // prep only; checked by the option
};

// Starts `standbyctl hold serve` for a prep that passed, detached (its own
// session, output to a log), handing it the standby's lock. Waits until it
// has taken the lease over. Returns its log's path.
base::Result<std::string> StartHold(const config::Config& config, store::StateStore& store,
                                    drill::DrillLock& lock, int64_t drill_id,
                                    const std::string& standby, base::Duration hold) {
  store::HoldRecord record;
  record.drill_id = drill_id;
  record.standby = standby;
  record.until_wall_ms = store::Timestamp::Now().wall_ms + hold.count();
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

std::string Ms(const std::optional<int64_t>& ms) {
  return ms ? base::FormatDuration(base::Duration(*ms)) : "-";
}

nlohmann::json OptionalJson(const std::optional<int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

void PrintSummary(const drill::DrillSummary& s, const std::string& store_path) {
  const store::DrillOutcome& o = s.outcome;
  fmt::print("\n{} {} on {}: {}\n", s.kind, s.drill_id, s.standby,
             s.held ? "READY"
             : o.result == store::DrillResult::kPassed
                 ? "PASSED"
                 : fmt::format("{} in {}: {}",
                               o.result == store::DrillResult::kAborted ? "ABORTED" : "FAILED",
                               o.failed_phase, o.reason));
  fmt::print("  {:<12} {:>9}  {}\n", "PHASE", "TIME", "OUTCOME");
  for (const drill::PhaseView& p : s.phases) {
    fmt::print("  {:<12} {:>9}  {}{}{}\n", p.name,
               base::FormatDuration(base::Duration(p.duration_ms)),
               store::PhaseOutcomeName(p.outcome), p.reason.empty() ? "" : ": ", p.reason);
  }
  if (!s.checks.empty()) {
    fmt::print("  checks\n");
    for (const store::CheckResultRecord& c : s.checks) {
      fmt::print("    {:<20} {:<8} {:>7}  {}\n", c.name, store::CheckOutcomeName(c.outcome),
                 base::FormatDuration(base::Duration(c.duration_ms)), c.detail);
    }
  }
  fmt::print("  RTO {}  boot {}  restore {}  RPO {}{}  exposure {}\n", Ms(o.rto_ms), Ms(o.boot_ms),
             Ms(o.restore_ms), Ms(o.rpo_ms), s.rpo_from.empty() ? "" : " (" + s.rpo_from + ")",
             Ms(o.exposure_ms));
  fmt::print("  primary footprint: {} connection(s), {} request(s)\n", o.primary_connections,
             o.primary_requests);
  if (s.held) {
    fmt::print("  the standby is up, current and checked: ready to take over\n");
    fmt::print(
        "  effective failover time now: {} (the RTO; DNS TTLs and other delays outside "
        "the standby are not counted yet)\n",
        Ms(o.rto_ms));
    fmt::print("  held until {}, then shut down and confirmed off (log: {})\n",
               LocalTime(s.hold_until_wall_ms), s.hold_log);
    fmt::print("  standbyctl hold status | extend --standby {} --by 1h | release --standby {}\n",
               s.standby, s.standby);
  } else if (s.powered_on) {
    fmt::print("  standby {}\n", s.confirmed_off ? "confirmed off"
                                                 : "NOT confirmed off: check it now "
                                                   "(standbyctl power status)");
  }
  fmt::print("  recorded as drill {} in {} (standbyctl history)\n", s.drill_id, store_path);
}

nlohmann::json SummaryJson(const drill::DrillSummary& s) {
  const store::DrillOutcome& o = s.outcome;
  nlohmann::json phases = nlohmann::json::array();
  for (const drill::PhaseView& p : s.phases) {
    phases.push_back({{"name", p.name},
                      {"outcome", store::PhaseOutcomeName(p.outcome)},
                      {"reason", p.reason},
                      {"duration_ms", p.duration_ms}});
  }
  nlohmann::json checks = nlohmann::json::array();
  for (const store::CheckResultRecord& c : s.checks) {
    checks.push_back({{"name", c.name},
                      {"kind", c.kind},
                      {"outcome", store::CheckOutcomeName(c.outcome)},
                      {"duration_ms", c.duration_ms},
                      {"detail", c.detail}});
  }
  nlohmann::json restores = nlohmann::json::array();
  for (const restore::RestoreReport& r : s.restores) {
    restores.push_back({{"source", r.source.path},
                        {"target", r.spec.target},
                        {"bytes_literal", r.literal_bytes},
                        {"bytes_matched", r.matched_bytes},
                        {"bytes_wire", r.wire_bytes},
                        {"drift", r.drift},
                        {"digest", r.target_digest}});
  }
  nlohmann::json probes = nlohmann::json::array();
  for (const drill::ProbeSummary& p : s.probes) {
    probes.push_back({{"name", p.name},
                      {"primary_median_us", OptionalJson(p.primary_median_us)},
                      {"standby_median_us", OptionalJson(p.standby_median_us)},
                      {"primary_failures", p.primary_failures},
                      {"standby_failures", p.standby_failures},
                      {"verdict", p.verdict}});
  }
  return {{"drill_id", s.drill_id},
          {"standby", s.standby},
          {"kind", s.kind},
          {"result", s.held ? "held" : store::DrillResultName(o.result)},
          {"ready", s.held},
          {"hold_until_wall_ms", s.held ? nlohmann::json(s.hold_until_wall_ms) : nullptr},
          {"hold_log", s.hold_log},
          {"failed_phase", o.failed_phase},
          {"reason", o.reason},
          {"rto_ms", OptionalJson(o.rto_ms)},
          {"boot_ms", OptionalJson(o.boot_ms)},
          {"restore_ms", OptionalJson(o.restore_ms)},
          {"rpo_ms", OptionalJson(o.rpo_ms)},
          {"rpo_from", s.rpo_from},
          {"exposure_ms", OptionalJson(o.exposure_ms)},
          {"primary_connections", o.primary_connections},
          {"primary_requests", o.primary_requests},
          {"confirmed_off", s.confirmed_off},
          {"off_steps", s.off_steps},
          {"lease_renewals", s.lease_renewals},
          {"phases", phases},
          {"checks", checks},
          {"restores", restores},
          {"probes", probes}};
}

// The message for a standby whose lock is held: which drill holds it.
std::string Busy(store::StateStore& store, const std::string& standby, const std::string& lock) {
  base::Result<std::vector<store::DrillRecord>> drills = store.ListDrills({standby, 20});
  if (drills.ok()) {
    for (const store::DrillRecord& d : *drills) {
      if (d.outcome.result != store::DrillResult::kRunning) continue;
      const std::string when = UtcTime(d.start.at.wall_ms) + " UTC";
      return fmt::format(
          "standby {} is busy: {} {} is running (started {} by pid {}, trigger {}); one drill "
          "per standby at a time",
          standby, d.start.kind, d.id, when, d.start.controller_pid, d.start.trigger);
    }
  }
  return fmt::format("standby {} is busy: another standbyctl process holds {}", standby, lock);
}

int RunDrillCommand(const GlobalOptions& global, const DrillArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<std::unique_ptr<drill::DrillLock>> lock =
      drill::DrillLock::TryAcquire(config->controller.state_dir, standby->name);
  if (!lock.ok()) {
    if (lock.status().code() != base::Code::kUnavailable) return ReportError(lock.status());
    fmt::print(stderr, "standbyctl: {}\n",
               Busy(**store, standby->name,
                    fmt::format("{}/locks/{}.lock", config->controller.state_dir, standby->name)));
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
  options.kind = args.kind;
  const auto start = std::chrono::steady_clock::now();
  if (!args.json) {
    // The live view says what the info log lines would; keep warnings.
    if (!global.log_level_given) spdlog::set_level(spdlog::level::warn);
    fmt::print("{} on {} (max exposure {})\n", args.kind, standby->name,
               base::FormatDuration(standby->max_exposure));
    options.on_phase = [start](const drill::PhaseView& p) {
      const double at =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (p.outcome == store::PhaseOutcome::kRunning) {
        fmt::print("[{:7.1f}s] {:<10} ...\n", at, p.name);
      } else {
        fmt::print("[{:7.1f}s] {:<10} {}{}{}\n", at, p.name, store::PhaseOutcomeName(p.outcome),
                   p.reason.empty() ? "" : ": ", p.reason);
      }
      std::fflush(stdout);
    };
  }
  drill::DrillEnv env{*config, *standby, **store, **driver, agent, *tls};
  base::Result<drill::DrillSummary> summary = drill::RunDrill(env, options);
  if (!summary.ok()) return ReportError(summary.status());
  if (summary->held) {
    base::Result<base::Duration> parsed = base::ParseDuration(args.hold);  // checked by --hold
    const base::Duration hold = parsed.ok() ? *parsed : base::Duration(7'200'000);
    base::Result<std::string> log =
        StartHold(*config, **store, **lock, summary->drill_id, standby->name, hold);
    if (!log.ok()) {
      // Nobody holds it: shut it down now rather than leave it to the lease.
      fmt::print(stderr, "standbyctl: {}; shutting the standby down\n", log.status().message());
      drill::OffResult off = drill::ConfirmOff(env, options.poll_interval);
      store::DrillOutcome o = summary->outcome;
      o.result = store::DrillResult::kFailed;
      o.failed_phase = "shutdown";
      o.reason = log.status().message() + "; " + off.reason;
      o.at = off.at;
      (void)(*store)->FinishDrill(summary->drill_id, o);
      summary->held = false;
      summary->confirmed_off = off.confirmed;
      summary->outcome = o;
    } else {
      summary->hold_log = *log;
      summary->hold_until_wall_ms = store::Timestamp::Now().wall_ms + hold.count();
    }
  }
  if (args.json) {
    fmt::print("{}\n", SummaryJson(*summary).dump(2));
  } else {
    PrintSummary(*summary, (*store)->path());
  }
  if (summary->held) return kExitOk;
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
  prep->add_option("--hold", args->hold, "How long the standby stays up (at most 24h)")
      ->check([](const std::string& text) {
        base::Result<base::Duration> d = base::ParseDuration(text);
        if (!d.ok()) return d.status().message();
        if (*d < std::chrono::seconds(1) || *d > drill::kMaxHold) {
          return std::string("the hold must be between 1s and 24h");
        }
        return std::string();
      })
      ->capture_default_str();
}

}  // namespace sb::cli
