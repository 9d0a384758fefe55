#include "agent/server/agent_config.h"

#include <fmt/format.h>

#include "agent/base/config_reader.h"
#include "agent/base/file.h"
#include "agent/sync/path.h"

namespace sb::agent {
namespace {

using base::Need;
using base::TableReader;

void ReadTls(TableReader& t, const std::string& path, net::TlsFiles* tls) {
  if (auto v = t.String("ca", Need::kRequired)) tls->ca = base::ResolveConfigPath(path, *v);
  if (auto v = t.String("cert", Need::kRequired)) tls->cert = base::ResolveConfigPath(path, *v);
  if (auto v = t.String("key", Need::kRequired)) tls->key = base::ResolveConfigPath(path, *v);
  t.RejectUnknownKeys();
}

void ReadLimits(TableReader& t, AgentLimits* limits) {
  if (auto v = t.Integer("max_connections", 1, 256)) limits->max_connections = int(*v);
  if (auto v = t.Integer("max_handshakes", 1, 1024)) limits->max_handshakes = int(*v);
  if (auto v = t.Integer("max_handshakes_per_address", 1, 1024)) {
    limits->max_handshakes_per_address = int(*v);
  }
  if (auto v = t.DurationValue("idle_timeout", base::Duration(100))) limits->idle_timeout = *v;
  if (auto v = t.DurationValue("handshake_timeout", base::Duration(100))) {
    limits->handshake_timeout = *v;
  }
  if (auto v = t.Size("max_frame", uint64_t{64} * 1024)) {
    if (*v > (4u << 20)) {
      t.ErrorAt("max_frame", "must not exceed the protocol's 4MiB");
    } else {
      limits->max_frame_bytes = static_cast<uint32_t>(*v);
    }
  }
  if (auto v = t.Size("max_output", 1024)) limits->max_output_bytes = *v;
  t.RejectUnknownKeys();
}

void ReadCommand(TableReader& t, AgentConfig* config) {
  std::optional<std::string> name = t.String("name", Need::kRequired);
  std::optional<std::vector<std::string>> argv = t.StringArray("argv", Need::kRequired);
  AllowedCommand command;
  if (auto d = t.DurationValue("timeout", base::Duration(100))) command.timeout = *d;
  t.RejectUnknownKeys();
  if (!name || !argv) return;
  if ((*argv)[0].empty() || (*argv)[0].front() != '/') {
    t.ErrorAt("argv", "the program must be an absolute path, so PATH cannot change what runs");
    return;
  }
  command.argv = *argv;
  if (!config->commands.emplace(*name, command).second) {
    t.ErrorAt("name", fmt::format("duplicate command name \"{}\"", *name));
  }
}

void Read(TableReader root, AgentConfig* config) {
  if (auto v = root.String("listen", Need::kRequired)) {
    base::Result<base::Endpoint> ep = base::ParseEndpoint(*v, 7443);
    if (ep.ok()) {
      config->listen = *ep;
    } else {
      root.ErrorAt("listen", ep.status().message());
    }
  }
  std::optional<std::string> role = root.String("role", Need::kRequired);
  if (auto v = role) {
    if (*v == "standby") {
      config->role = Role::kStandby;
    } else if (*v == "primary") {
      config->role = Role::kPrimary;
    } else {
      root.ErrorAt("role", fmt::format("unknown role \"{}\" (use standby or primary)", *v));
    }
  }
  if (auto tls = root.Table("tls", Need::kRequired)) ReadTls(*tls, config->path, &config->tls);
  if (auto v = root.StringArray("data_roots")) {
    for (const std::string& dir : *v) {
      if (dir.empty() || dir.front() != '/' || dir == "/" ||
          !sync::CheckRelativePath(std::string_view(dir).substr(1)).ok()) {
        root.ErrorAt("data_roots", fmt::format("\"{}\" must be an absolute, normalized "
                                               "directory other than /",
                                               dir));
      }
    }
    config->data_roots = *v;
  }
  if (auto v = root.String("state_dir")) {
    base::Status usable = base::CheckStateDirectory(*v);
    if (!usable.ok()) root.ErrorAt("state_dir", usable.message());
    config->state_dir = *v;
  }
  if (auto v = root.StringArray("shutdown")) config->shutdown = *v;
  if (auto v = root.DurationValue("shutdown_timeout", base::Duration(1000))) {
    config->shutdown_timeout = *v;
  }
  if (config->role == Role::kPrimary) {
    // Said at config time, so nobody believes a primary could be written to.
    if (root.Has("data_roots")) root.ErrorAt("data_roots", "a primary agent never writes");
    if (root.Has("shutdown")) root.ErrorAt("shutdown", "a primary agent never shuts down");
    if (root.Has("state_dir")) root.ErrorAt("state_dir", "a primary agent keeps no restore state");
  } else if (config->shutdown.empty() && role == "standby") {
    root.Error("missing required key \"shutdown\" (the standby role needs a shutdown command)");
  }
  for (TableReader& c : root.TableArray("command")) ReadCommand(c, config);
  if (auto limits = root.Table("limits")) ReadLimits(*limits, &config->limits);
  root.RejectUnknownKeys();
}

}  // namespace

std::string_view RoleName(Role role) { return role == Role::kStandby ? "standby" : "primary"; }

base::Result<AgentConfig> LoadAgentConfig(const std::string& path) {
  base::ConfigFile file = base::ConfigFile::Load(path);
  return base::ReadWholeConfig<AgentConfig>(file, path, Read);
}

base::Result<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& path) {
  base::ConfigFile file = base::ConfigFile::Parse(text, path);
  return base::ReadWholeConfig<AgentConfig>(file, path, Read);
}

}  // namespace sb::agent
