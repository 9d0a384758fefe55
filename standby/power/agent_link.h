// The controller's HostAgent: reaches a standby's agent over the mutually
// authenticated channel for the power logic (is it up? shut it down). TLS
// material is loaded on first use, so a power command that never needs the
// agent does not need the certificates either. One thread.

#ifndef STANDBY_POWER_AGENT_LINK_H_
#define STANDBY_POWER_AGENT_LINK_H_

#include <chrono>
#include <optional>

#include "agent/client/agent_client.h"
#include "standby/power/power_driver.h"

namespace sb::power {

class AgentLink final : public HostAgent {
 public:
  AgentLink(client::AgentTarget target, net::TlsFiles tls,
            std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool Reachable() override;
  base::Status Shutdown() override;

 private:
  base::Result<std::unique_ptr<client::AgentClient>> Connect();

  client::AgentTarget target_;
  net::TlsFiles files_;
  std::chrono::milliseconds timeout_;
  std::optional<net::TlsContext> tls_;
};

}  // namespace sb::power

#endif  // STANDBY_POWER_AGENT_LINK_H_
