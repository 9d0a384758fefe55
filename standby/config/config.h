// The controller's configuration: what standbys exist, how to power them,
// what to restore into them, how to check them, and when to drill.
//
// LoadConfig reads one TOML file, validates all of it and either returns a
// complete Config or every error found, each as "FILE:LINE:COL: message".
// Relative paths in the file are taken relative to the file's directory.
// Secrets are never part of the text: a SecretRef names where to read them.
// A Config is a plain value; share it read-only between threads.

#ifndef STANDBY_CONFIG_CONFIG_H_
#define STANDBY_CONFIG_CONFIG_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/endpoint.h"
#include "agent/base/status.h"
#include "agent/base/units.h"
#include "agent/net/tls.h"
#include "standby/config/secret.h"

namespace sb::config {

using base::Duration;

inline constexpr uint16_t kDefaultAgentPort = 7443;
inline constexpr const char* kDefaultConfigPath = "/etc/standbyctl/standbyctl.toml";

struct ControllerConfig {
  std::string state_dir = "/var/lib/standbyctl";
  net::TlsFiles tls{"/etc/standbyctl/pki/ca.crt", "/etc/standbyctl/pki/controller.crt",
                    "/etc/standbyctl/pki/controller.key"};
};

enum class PowerDriverKind { kIpmi, kWol, kCommand };

enum class IpmiCipherSuite { kAuto, kSuite17, kSuite3 };

struct IpmiPower {
  base::Endpoint bmc;  // UDP host:port of the BMC, port 623 by default
  std::string username;
  SecretRef password;
  IpmiCipherSuite cipher_suite = IpmiCipherSuite::kAuto;
  Duration timeout{5'000};       // per request
  int retries = 3;               // per request, with backoff
  Duration min_interval{1'000};  // between commands to the same BMC
};

struct WolPower {
  std::array<uint8_t, 6> mac{};
  std::string broadcast = "255.255.255.255";
  uint16_t port = 9;
  std::string interface;  // empty: let routing choose
  std::optional<SecretRef> secureon;
  int packets = 3;
  std::optional<base::Endpoint> probe;  // a TCP port that answers when the host is up
};

struct CommandPower {
  std::vector<std::string> on, off, soft_off, status;  // soft_off may be empty
  Duration timeout{60'000};
};

struct PowerConfig {
  PowerDriverKind driver = PowerDriverKind::kIpmi;
  IpmiPower ipmi;
  WolPower wol;
  CommandPower command;
};

// How much of its target one restore may delete, like rsync's --max-delete:
// a count, or a percentage of the entries the target holds. A source that
// came up empty (an unmounted backup disk, a failed backup) would otherwise
// wipe the standby.
struct DeleteLimit {
  uint64_t value = 50;
  bool percent = true;

  // How many deletions a target of `entries` entries allows.
  uint64_t Allowed(uint64_t entries) const { return percent ? entries * value / 100 : value; }
  std::string ToString() const;  // "50%", "1000"
};

struct RestoreMapping {
  std::string source;  // a directory, an archive, or a glob of archives (newest wins)
  std::string target;  // absolute directory on the standby
  std::string canary;  // optional, relative to the source: a file holding its backup time
  std::optional<Duration> max_age;           // preflight fails when the source is older
  uint64_t keep_free = uint64_t{512} << 20;  // bytes left free on the target's filesystem
  DeleteLimit max_delete;                    // default: half of the target's entries
  // Owners of restored entries (set only by an agent running as root):
  // "numeric" keeps the source's ids, rewritten by the maps; "none" leaves
  // them to the agent's user.
  bool set_owners = true;
  std::map<int64_t, int64_t> uid_map, gid_map;
};

enum class CheckKind { kHttp, kCommand };

struct SmokeCheck {
  std::string name;
  CheckKind kind = CheckKind::kHttp;
  std::string url;            // http
  int expect_status = 200;    // http
  std::string body_contains;  // http, optional
  std::string command;        // command: a name on the agent's allow-list
  Duration timeout{10'000};
};

struct PerformanceProbe {
  std::string name;
  std::string primary_url;
  std::string standby_url;
  int requests = 20;         // per host
  Duration interval{200};    // between requests to one host
  Duration timeout{10'000};  // per request
};

struct StandbyConfig {
  std::string name;
  base::Endpoint agent;
  std::string agent_name;  // expected name in the agent's certificate
  PowerConfig power;
  std::vector<RestoreMapping> restores;
  std::vector<SmokeCheck> checks;
  std::vector<PerformanceProbe> probes;
  Duration max_exposure{3'600'000};    // power-on to confirmed off
  Duration boot_timeout{600'000};      // power-on to agent answering
  Duration smoke_timeout{300'000};     // restore done to every smoke check passing (retried)
  Duration shutdown_timeout{300'000};  // graceful shutdown before hard power off
  Duration lease{120'000};             // agent powers off when not renewed
};

struct PrimaryConfig {
  std::string name;
  base::Endpoint agent;
  std::string agent_name;
  int max_sessions = 4;  // connections a drill may open to the primary
};

struct Schedule {
  std::string name;
  std::string standby;
  std::string cron;  // validated by schedule::ParseCron
  std::string timezone = "UTC";
  Duration random_delay{0};
  Duration grace{86'400'000};  // a missed run is made up at start-up within this
};

struct Config {
  std::string path;  // the file it came from
  ControllerConfig controller;
  std::optional<PrimaryConfig> primary;
  std::vector<StandbyConfig> standbys;
  std::vector<Schedule> schedules;

  const StandbyConfig* FindStandby(std::string_view name) const;
};

// Reads and validates `path`. On failure the Status (kInvalidArgument) holds
// every error, one "FILE:LINE:COL: message" per line.
base::Result<Config> LoadConfig(const std::string& path);

// The same for text already in memory, reported as coming from `path`.
base::Result<Config> ParseConfig(std::string_view text, const std::string& path);

std::string_view PowerDriverName(PowerDriverKind kind);

}  // namespace sb::config

#endif  // STANDBY_CONFIG_CONFIG_H_
