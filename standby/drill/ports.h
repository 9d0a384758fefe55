// The drill's side effects, each behind a small interface that DrillEnv
// carries: the clock, reaching an agent, the standby's lease, running a smoke
// check, and timing the comparison's requests. The power driver and the
// host agent (standby/power/power_driver.h) are the other two. The real
// implementations are in live_ports.h; tests pass fakes
// (tests/support/drill_fakes.h), so the drill's logic runs in milliseconds
// with no sockets, no child processes and no real waiting.
#ifndef STANDBY_DRILL_PORTS_H_
#define STANDBY_DRILL_PORTS_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/base/status.h"
#include "agent/client/agent_client.h"
#include "standby/config/config.h"
#include "standby/http/http_client.h"
#include "standby/restore/restore_run.h"
#include "standby/store/state_store.h"

namespace sb::drill {

// Time as the drill reads and spends it. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual store::Timestamp Now() = 0;
  // Waits `d`, or less once `interrupted()` is true (asked at least every
  // 100 ms). True when the whole wait passed.
  virtual bool Wait(std::chrono::milliseconds d, const std::function<bool()>& interrupted) = 0;
};

// A connected agent as the drill uses it.
class AgentSession {
 public:
  virtual ~AgentSession() = default;
  // One request and its reply (errors name the agent).
  virtual base::Result<nlohmann::json> Call(std::string_view type, nlohmann::json body) = 0;
  // A whole restore of one mapping (restore_run.h) over this session.
  virtual base::Result<restore::RestoreReport> Restore(const restore::RestoreSpec& spec) = 0;
  // From another thread: the call in progress, and every later one, fails
  // now (a drill's deadline or a stop request).
  virtual void Interrupt() = 0;
  // When the agent's certificate expires (ms since the epoch), when known.
  virtual std::optional<int64_t> CertificateNotAfterMs() const { return std::nullopt; }
};

// Reaches an agent: connects, verifies it (chain, name, role) and says Hello.
class AgentDialer {
 public:
  virtual ~AgentDialer() = default;
  virtual base::Result<std::unique_ptr<AgentSession>> Dial(
      const client::AgentTarget& target, std::chrono::milliseconds connect_timeout) = 0;
};

// The standby agent's lease (agent/server/lease.h), held from Take until
// StopRenewing, renewed meanwhile without the drill's help.
class StandbyLease {
 public:
  virtual ~StandbyLease() = default;
  // Takes the lease under `holder` and starts renewing it; errors name the
  // agent.
  virtual base::Status Take(const std::string& holder) = 0;
  // Stops renewing without releasing: the lease goes with the standby.
  // Returns the renewals made. Harmless when not taken.
  virtual int StopRenewing() = 0;
};

// One run of a smoke check.
struct CheckRun {
  store::CheckResultRecord result;  // its `measured` holds what the check read
  // A failure that trying again cannot fix (a command not on the agent's
  // allow-list, a certificate the client refuses, a 404): the drill does not
  // retry it until smoke_timeout.
  bool permanent = false;
  // dns checks: the largest TTL of the names checked, which the effective
  // failover time adds to the RTO.
  std::optional<std::chrono::milliseconds> max_ttl;
  // The check's footprint on the primary (same_as_primary), which counts
  // against the drill's cap.
  int64_t primary_connections = 0, primary_requests = 0;
};

// Where the smoke checks run: what {host} becomes, and what the checks that
// compare with the primary or the backup need.
struct CheckTarget {
  std::string host;                              // the standby's address (its agent's host)
  std::string primary_host;                      // the primary's, for same_as_primary; empty: none
  int64_t primary_connections_left = 1'000'000;  // what the drill's cap leaves
  std::vector<config::RestoreMapping> restores;  // their canaries, for canary checks
  std::function<int64_t()> now_wall_ms;          // for ages and expiry; the system's when empty
};

// Runs one smoke check (checks.h); `standby` is the standby's agent, for the
// checks that run on it (null when there is none).
class SmokeRunner {
 public:
  virtual ~SmokeRunner() = default;
  virtual CheckRun Run(const config::SmokeCheck& check, const CheckTarget& target,
                       AgentSession* standby) = 0;
};

using http::HttpResponse;
using http::HttpTimings;

// A client that times GET requests to one host, keeping its connection
// alive and counting the connections it opened (the drill's footprint on
// the primary). One thread per object.
class Requester {
 public:
  virtual ~Requester() = default;
  // Errors (no connection, timeout, bad URL) name the URL and the reason.
  virtual base::Result<HttpResponse> Get(const std::string& url,
                                         std::chrono::milliseconds timeout) = 0;
  virtual int64_t connections() const = 0;
};

// Opens the comparison's requesters: one per host and probe.
class ProbeRequester {
 public:
  virtual ~ProbeRequester() = default;
  virtual std::unique_ptr<Requester> Open() = 0;
};

// What DrillEnv carries; each must outlive the drill.
struct DrillPorts {
  Clock& clock;
  AgentDialer& dialer;
  StandbyLease& lease;
  SmokeRunner& smoke;
  ProbeRequester& probes;
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_PORTS_H_
