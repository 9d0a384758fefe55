#include "standby/cli/command.h"

#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"
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

std::string SelfPath() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "standbyctl";
}

std::string LocalTime(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &tm);
  return buf;
}

int ReportError(const base::Status& status) {
  fmt::print(stderr, "standbyctl: {}\n", status.message());
  return status.code() == base::Code::kInvalidArgument ? kExitUsage : kExitInternal;
}

}  // namespace sb::cli
