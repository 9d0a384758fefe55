#include "standby/cli/command.h"

#include <cstdio>

#include <fmt/format.h>

#include "agent/base/file.h"

namespace sb::cli {

std::optional<config::Config> LoadConfigOrReport(const GlobalOptions& options) {
  base::Result<config::Config> config = config::LoadConfig(options.config_path);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.status().message());
    if (config.status().message().find("cannot read config") != std::string::npos) {
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
  return store::StateStore::Open(store::StateStore::PathIn(dir));
}

int ReportError(const base::Status& status) {
  fmt::print(stderr, "standbyctl: {}\n", status.message());
  return status.code() == base::Code::kInvalidArgument ? kExitUsage : kExitInternal;
}

}  // namespace sb::cli
