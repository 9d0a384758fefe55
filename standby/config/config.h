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
#include <utility>
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
// The longest max_hold a standby may set.
inline constexpr Duration kMaxHoldLimit{24LL * 3'600'000};

struct ControllerConfig {
  std::string state_dir = "/var/lib/standbyctl";
  net::TlsFiles tls{"/etc/standbyctl/pki/ca.crt", "/etc/standbyctl/pki/controller.crt",
                    "/etc/standbyctl/pki/controller.key"};
  // Where standbyctl.prom is rewritten after every drill, for
  // node_exporter's textfile collector; empty: not written.
  std::string metrics_dir;
  // Run with the drill's JSON on stdin when a drill or prep fails or is
  // aborted (mail, a webhook through curl, a pager); empty: nothing run.
  std::vector<std::string> on_failure;
  Duration on_failure_timeout{60'000};
};

enum class PowerDriverKind { kIpmi, kRedfish, kWol, kCommand };

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

// A BMC's Redfish service over HTTPS. Its certificate is verified against
// ca_file (or the system's store) and, when set, pinned_public_key; only
// tls_verify = false turns verification off, warned about at every use.
struct RedfishPower {
  base::Endpoint bmc;  // host:port of the BMC's HTTPS service, port 443 by default
  std::string username;
  SecretRef password;
  std::string ca_file;
  std::string pinned_public_key;  // "sha256//BASE64" of the BMC's public key
  bool tls_verify = true;
  std::string system_id;     // empty: the service's only system
  Duration timeout{10'000};  // per request
  int retries = 3;           // after 503 or no connection, with backoff
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
  RedfishPower redfish;
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
  // Re-reading the target's unchanged files on the standby (agent/sync/
  // reverify.h): every byte once every verify_every restores (0: never),
  // at most verify_budget bytes a restore. A file read back with other
  // bytes is repaired and, with on_corrupt = fail, fails the drill.
  uint32_t verify_every = 12;
  uint64_t verify_budget = uint64_t{2} << 30;
  bool fail_on_corrupt = true;
};

enum class CheckKind { kHttp, kTcp, kTls, kDns, kCommand, kFile, kCanary };

// An inclusive range of HTTP statuses: 200-299, or 301-301.
struct StatusRange {
  int low = 200;
  int high = 299;
  bool operator==(const StatusRange&) const = default;
};

// Where an address or a URL says {host}, the check puts the address of the
// host under test (the standby's agent's host; the primary's for
// same_as_primary).
inline constexpr std::string_view kHostPlaceholder = "{host}";

struct HttpCheck {
  std::string url;  // http:// or https://, may hold {host}
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;       // sent as given
  std::string body;                                               // request body, optional
  std::vector<StatusRange> valid_status = {StatusRange{}};        // default 2xx
  std::string body_contains;                                      // optional substring
  std::string body_regex, body_not_regex;                         // RE2 syntax, optional
  std::vector<std::pair<std::string, std::string>> header_regex;  // header -> RE2
  bool follow_redirects = false;
  // Connect to the URL's host but send this name (Host and TLS SNI) and
  // verify the certificate against it: a name-based virtual host reached on
  // the standby's address before DNS points at it.
  std::string host_name;
  std::string ca_file;                  // a private CA (PEM); default: the system's
  std::string client_cert, client_key;  // PEM, both or neither
  // Fetch the same URL from the primary too and require equal bodies (after
  // removing what ignore_regex matches from both): catches a corrupted
  // backup whose page still looks right.
  bool same_as_primary = false;
  std::string ignore_regex;
};

struct TcpCheck {
  std::string address;       // host:port, may hold {host}
  std::string send;          // written after connecting, optional
  std::string expect_regex;  // the first bytes read must match, optional
  bool tls = false;          // TLS from the first byte (no STARTTLS)
  std::string host_name;     // SNI and the name verified, with tls
  std::string ca_file;
};

struct TlsCheck {
  std::string address;             // host:port, may hold {host}
  std::vector<std::string> names;  // the certificate must be valid for each
  std::string ca_file;             // default: the system's store
  int min_days = 14;               // fails when it expires sooner
  std::string min_version = "TLSv1.2";
};

struct DnsCheck {
  std::vector<std::string> names;
  std::string type = "A";           // A, AAAA or CNAME
  std::vector<std::string> expect;  // the answers must include each, optional
  // The zone's authoritative server asked (recursion off); when empty, the
  // zone's NS found through `resolver` (default: /etc/resolv.conf), asked on
  // ns_port.
  std::string server;    // host:port
  std::string resolver;  // host:port
  uint16_t ns_port = 53;
  Duration max_ttl{300'000};
};

struct FileCheck {
  std::string path;  // absolute, under one of the standby agent's data_roots
  std::string type;  // "file", "dir" or "symlink"; empty: any
  std::optional<uint64_t> min_size, max_size;
  std::string sha256;               // lowercase hex, optional
  std::optional<Duration> max_age;  // modified no longer ago than this
};

struct SmokeCheck {
  std::string name;
  CheckKind kind = CheckKind::kHttp;
  Duration timeout{10'000};  // one attempt
  Duration warmup{0};        // waited after the restore, before the first attempt
  HttpCheck http;
  TcpCheck tcp;
  TlsCheck tls;
  DnsCheck dns;
  std::string command;       // command: a name on the agent's allow-list
  std::string output_regex;  // command: its standard output must match, optional
  FileCheck file;
  // canary: the target of the restore whose canary is read back on the
  // standby; empty: every restore that has a canary.
  std::string canary_target;
};

enum class OnSlower { kWarn, kFail };
enum class ProbeKind { kHttp, kCommand };

struct PerformanceProbe {
  std::string name;
  ProbeKind kind = ProbeKind::kHttp;
  std::string primary_url;  // http
  std::string standby_url;
  std::string command;        // command: a name on both agents' allow-lists, timed by each agent
  int requests = 20;          // per host, counted after the warm-up
  int warmup_requests = 2;    // per host, made first and not counted (TLS, cold caches)
  Duration interval{200};     // between requests to one host
  Duration timeout{10'000};   // per HTTP request (a command's is its agent allow-list entry's)
  double slower_ratio = 1.5;  // standby-slower when the ratio's interval lies above this
  double noise_band = 0.10;   // equivalent when it lies within 1 +- this
  std::chrono::microseconds min_difference{1000};  // or when the medians differ by less
  OnSlower on_slower = OnSlower::kWarn;            // what standby-slower does to the drill
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
  // What the report holds the drills to (report.h): the recovery time and
  // point objectives, and how old the last passed drill may be before the
  // standby counts as not verified. Not part of the digest.
  std::optional<Duration> rto_target, rpo_target;
  Duration verify_within{35LL * 86'400'000};
  // How long a prep's hold may keep the standby up, from the hold's start,
  // extensions included. max_exposure bounds the prep's phases before it;
  // a prep's exposure is held to max_exposure + max_hold.
  Duration max_hold{8LL * 3'600'000};
  // Hex SHA-256 over this standby's table and the [primary] table in
  // canonical form (everything a drill does with them, not the targets
  // above): a drill under another digest no longer vouches for the standby.
  std::string digest;
};

struct PrimaryConfig {
  std::string name;
  base::Endpoint agent;
  std::string agent_name;
  int max_sessions = 4;    // connections a drill may open to the primary
  int max_requests = 500;  // probe requests (or commands) a drill may send it
  // Whether the preflight fails when the primary's agent does not answer.
  // A prep goes on without it by default: it is made for when the primary
  // is sick; the comparison is then skipped, and said so.
  bool required_for_drill = true;
  bool required_for_prep = false;
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
  // What the config names but this machine lacks (a backup source, a
  // program, a TLS file, an unset variable): warnings for `config check`,
  // errors for `config check --strict` and the daemon's start. Each is
  // "FILE:LINE:COL: message", in file order.
  std::vector<std::string> machine_problems;

  const StandbyConfig* FindStandby(std::string_view name) const;
};

// Reads and validates `path`. On failure the Status (kInvalidArgument) holds
// every error, one "FILE:LINE:COL: message" per line.
base::Result<Config> LoadConfig(const std::string& path);

// The same for text already in memory, reported as coming from `path`.
base::Result<Config> ParseConfig(std::string_view text, const std::string& path);

// Whether the driver reads the power state from a BMC (ipmi, redfish): a
// reading that fails is a failure, and an on can be waited for. Wake-on-LAN
// and commands cannot be asked at once.
bool PowerStateFromBmc(PowerDriverKind kind);
std::string_view PowerDriverName(PowerDriverKind kind);
std::string_view CheckKindName(CheckKind kind);

// Why `pattern` is not a valid RE2 regular expression; empty when it is.
std::string RegexError(const std::string& pattern);

}  // namespace sb::config

#endif  // STANDBY_CONFIG_CONFIG_H_
