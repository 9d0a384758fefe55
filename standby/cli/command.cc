#include "standby/cli/command.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"

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
  return std::move(*config);
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

int ReportError(const base::Status& status) {
  fmt::print(stderr, "standbyctl: {}\n", status.message());
  return status.code() == base::Code::kInvalidArgument ? kExitUsage : kExitInternal;
}

}  // namespace sb::cli
