// The real ports (ports.h): the steady and system clocks, TLS connections to
// agents, the LeaseKeeper, the smoke checks of checks.h, and libcurl. What
// `standbyctl drill`, `prep`, `hold serve` and the daemon's drills run on.
#ifndef STANDBY_DRILL_LIVE_PORTS_H_
#define STANDBY_DRILL_LIVE_PORTS_H_

#include <memory>

#include "agent/net/tls.h"
#include "standby/config/config.h"
#include "standby/drill/lease_keeper.h"
#include "standby/drill/ports.h"

namespace sb::drill {

class SystemClock : public Clock {
 public:
  store::Timestamp Now() override;
  bool Wait(std::chrono::milliseconds d, const std::function<bool()>& interrupted) override;
};

class TlsDialer : public AgentDialer {
 public:
  explicit TlsDialer(const net::TlsContext& tls) : tls_(tls) {}
  base::Result<std::unique_ptr<AgentSession>> Dial(
      const client::AgentTarget& target, std::chrono::milliseconds connect_timeout) override;

 private:
  const net::TlsContext& tls_;
};

// The standby's lease through a LeaseKeeper of its own connection.
class KeptLease : public StandbyLease {
 public:
  KeptLease(client::AgentTarget target, const net::TlsContext& tls, std::chrono::milliseconds ttl)
      : target_(std::move(target)), tls_(tls), ttl_(ttl) {}
  base::Status Take(const std::string& holder) override;
  int StopRenewing() override;

 private:
  client::AgentTarget target_;
  const net::TlsContext& tls_;
  std::chrono::milliseconds ttl_;
  std::unique_ptr<LeaseKeeper> keeper_;
};

class CheckRunner : public SmokeRunner {
 public:
  CheckRun Run(const config::SmokeCheck& check, const CheckTarget& target,
               AgentSession* standby) override;
};

class CurlRequesters : public ProbeRequester {
 public:
  std::unique_ptr<Requester> Open() override;
};

// All of them for one standby; `tls` must outlive it.
class LivePorts {
 public:
  LivePorts(const config::StandbyConfig& standby, const net::TlsContext& tls)
      : dialer_(tls), lease_({standby.agent, standby.agent_name}, tls, standby.lease) {}
  LivePorts(const LivePorts&) = delete;
  LivePorts& operator=(const LivePorts&) = delete;

  DrillPorts ports() { return {clock_, dialer_, lease_, smoke_, probes_}; }

 private:
  SystemClock clock_;
  TlsDialer dialer_;
  KeptLease lease_;
  CheckRunner smoke_;
  CurlRequesters probes_;
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_LIVE_PORTS_H_
