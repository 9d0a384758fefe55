#include "standby/cli/command.h"

#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "standby/cli/after_drill.h"
#include "standby/drill/reconcile.h"

namespace sb::cli {

std::optional<config::Config> LoadConfigOrReport(const GlobalOptions& options) {
  base::Result<config::Config> config = config::LoadConfig(options.config_path);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.status().message());
    if (::access(options.config_path.c_str(), R_OK) != 0) {
      fmt::print(stderr, "hint: pass --config FILE or set STANDBYCTL_CONFIG\n");
    }
    return std::nullopt;
  }
  Reconcile(*config, options.command);
  return std::move(*config);
}

void Reconcile(const config::Config& config, const std::string& command) {
  // Only a store that exists can hold drills left behind.
  if (::access(store::StateStore::PathIn(config.controller.state_dir).c_str(), F_OK) != 0) return;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(config);
  if (!store.ok()) {
    spdlog::warn("could not check for unfinished drills: {}", store.status().message());
    return;
  }
  base::Result<std::vector<drill::Reconciled>> done =
      drill::ReconcileDrills(config, **store, command);
  if (!done.ok()) {
    spdlog::error("could not reconcile unfinished drills: {}", done.status().message());
    return;
  }
  for (const drill::Reconciled& r : *done) {
    fmt::print(stderr, "standbyctl: {}{}\n", r.confirmed_off ? "" : "WARNING: ", r.message);
    for (const std::string& step : r.steps) fmt::print(stderr, "  {}\n", step);
    // Marked aborted now: its end is handled here, as a drill's own would be.
    if (r.confirmed_off) AfterDrill(config, **store, r.drill_id);
  }
}

base::Result<std::unique_ptr<store::StateStore>> OpenStateStore(const config::Config& config) {
  const std::string& dir = config.controller.state_dir;
  base::Status s = base::MakeDirectories(dir, 0700);
  if (!s.ok()) return s.WithContext("state directory");
  base::Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(store::StateStore::PathIn(dir));
  if (store.ok()) {
    spdlog::debug("opened state store {} (schema version {})", (*store)->path(),
                  (*store)->schema_version());
  }
  return store;
}

int ReportFailure(const base::Status& status) {
  fmt::print(stderr, "standbyctl: {}\n", status.message());
  return status.code() == base::Code::kInvalidArgument ? kExitUsage : kExitFailed;
}

const config::StandbyConfig* FindStandbyOrReport(const config::Config& config,
                                                 const std::string& name) {
  const config::StandbyConfig* standby = config.FindStandby(name);
  if (standby == nullptr) {
    fmt::print(stderr, "standbyctl: {} has no standby named \"{}\"\n", config.path, name);
  }
  return standby;
}

StopSignals::StopSignals(std::string notice) : notice_(std::move(notice)) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, &old_);
  thread_ = std::thread([this] {
    while (!done_.load()) {
      timespec wait{0, 200'000'000};
      int sig = ::sigtimedwait(&set_, nullptr, &wait);
      if (sig > 0 && stop_.exchange(sig) == 0) {
        fmt::print(stderr, "\nstandbyctl: {} received: {}\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
                   notice_);
      }
    }
  });
}

StopSignals::~StopSignals() {
  done_ = true;
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

std::string BusyMessage(store::StateStore& store, const std::string& standby,
                        const std::string& state_dir) {
  base::Result<std::vector<store::DrillRecord>> drills = store.ListDrills({standby, 20});
  if (drills.ok()) {
    for (const store::DrillRecord& d : *drills) {
      if (d.outcome.result != store::DrillResult::kRunning) continue;
      base::Result<store::HoldRecord> hold = store.GetHold(d.id);
      const bool held = hold.ok() && !hold->ended_wall_ms;
      return fmt::format(
          "standby {} is busy: {} {} is {} (started {} UTC by pid {}, trigger {}{})", standby,
          d.start.kind, d.id, held ? "holding it" : "running", UtcTime(d.start.at.wall_ms),
          held && hold->holder_pid ? *hold->holder_pid : d.start.controller_pid, d.start.trigger,
          held ? fmt::format("; standbyctl hold release --standby {} ends it", standby) : "");
    }
  }
  return fmt::format("standby {} is busy: another standbyctl process holds {}/locks/{}.lock",
                     standby, state_dir, standby);
}

std::optional<std::unique_ptr<drill::DrillLock>> LockForManualCommand(const config::Config& config,
                                                                      store::StateStore& store,
                                                                      const std::string& standby,
                                                                      bool force,
                                                                      const std::string& what) {
  base::Result<std::unique_ptr<drill::DrillLock>> lock =
      drill::DrillLock::TryAcquire(config.controller.state_dir, standby);
  if (lock.ok()) return std::move(*lock);
  if (lock.status().code() != base::Code::kUnavailable) {
    fmt::print(stderr, "standbyctl: {}\n", lock.status().message());
    return std::nullopt;
  }
  const std::string busy = BusyMessage(store, standby, config.controller.state_dir);
  if (!force) {
    fmt::print(stderr, "standbyctl: {}; {} refused (--force goes on anyway)\n", busy, what);
    return std::nullopt;
  }
  fmt::print(stderr, "standbyctl: WARNING: {}; {} goes on anyway (--force)\n", busy, what);
  (void)store.AddEvent(
      std::nullopt, "warn",
      fmt::format("{} of {} forced while its lock was taken: {}", what, standby, busy),
      store::Timestamp::Now().wall_ms);
  return std::unique_ptr<drill::DrillLock>();
}

std::string ResyncIntervalError(const std::string& text) {
  base::Result<base::Duration> d = base::ParseDuration(text);
  if (!d.ok()) return d.status().message();
  if (*d < std::chrono::seconds(1)) return "the resync interval must be at least 1s";
  return "";
}

std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "standbyctl";
}

namespace {

std::string FormatTime(int64_t wall_ms, bool utc, const char* format) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  if (utc) {
    ::gmtime_r(&t, &tm);
  } else {
    ::localtime_r(&t, &tm);
  }
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string LocalTime(int64_t wall_ms) {
  return FormatTime(wall_ms, false, "%Y-%m-%d %H:%M:%S %Z");
}

std::string UtcTime(int64_t wall_ms) { return FormatTime(wall_ms, true, "%Y-%m-%d %H:%M:%S"); }

int ReportError(const base::Status& status) {
  fmt::print(stderr, "standbyctl: {}\n", status.message());
  return status.code() == base::Code::kInvalidArgument ? kExitUsage : kExitInternal;
}

}  // namespace sb::cli
