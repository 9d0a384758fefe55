// standby-agent's configuration: where it listens, its role, its TLS files,
// the data roots a restore may write, the allow-listed commands, the
// shutdown command, and its limits. Read from TOML with the same exact
// FILE:LINE:COL errors as the controller's config. A plain value.

#ifndef AGENT_SERVER_AGENT_CONFIG_H_
#define AGENT_SERVER_AGENT_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/endpoint.h"
#include "agent/base/status.h"
#include "agent/base/units.h"
#include "agent/net/tls.h"

namespace sb::agent {

enum class Role { kStandby, kPrimary };  // kPrimary never writes or shuts down

std::string_view RoleName(Role role);

struct AllowedCommand {
  std::vector<std::string> argv;
  base::Duration timeout{30'000};
};

struct AgentLimits {
  // Authenticated sessions (a controller's connections) at once. Handshakes
  // in progress have limits of their own, so connections nobody has
  // authenticated can never take a controller's place.
  int max_connections = 8;
  int max_handshakes = 32;                  // TLS handshakes in progress at once
  int max_handshakes_per_address = 4;       // of those, from one peer address
  base::Duration idle_timeout{120'000};     // no complete frame for this long: close
  base::Duration handshake_timeout{3'000};  // a controller on a LAN needs milliseconds
  uint32_t max_frame_bytes = 4u << 20;
  uint64_t max_output_bytes = uint64_t{64} * 1024;  // per stream of a RunCommand
};

struct AgentConfig {
  std::string path;
  base::Endpoint listen;
  Role role = Role::kStandby;
  net::TlsFiles tls;
  std::vector<std::string> data_roots;  // standby only
  // Standby only: where interrupted restores are registered (so a restart
  // finds them) and the per-target hash caches live.
  std::string state_dir = "/var/lib/standby-agent";
  std::vector<std::string> shutdown;  // standby only: argv
  base::Duration shutdown_timeout{60'000};
  std::map<std::string, AllowedCommand> commands;
  AgentLimits limits;
};

base::Result<AgentConfig> LoadAgentConfig(const std::string& path);
base::Result<AgentConfig> ParseAgentConfig(std::string_view text, const std::string& path);

}  // namespace sb::agent

#endif  // AGENT_SERVER_AGENT_CONFIG_H_
