#include "standby/power/agent_link.h"

#include <spdlog/spdlog.h>

namespace sb::power {

AgentLink::AgentLink(client::AgentTarget target, net::TlsFiles tls,
                     std::chrono::milliseconds timeout)
    : target_(std::move(target)), files_(std::move(tls)), timeout_(timeout) {}

base::Result<std::unique_ptr<client::AgentClient>> AgentLink::Connect() {
  if (!tls_) {
    base::Result<net::TlsContext> ctx = net::TlsContext::ForClient(files_);
    if (!ctx.ok()) return ctx.status().WithContext("controller TLS");
    tls_ = std::move(*ctx);
  }
  client::ClientOptions options;
  options.connect_timeout = timeout_;
  options.request_timeout = timeout_ * 6;  // a shutdown command may take a while to start
  return client::AgentClient::Connect(target_, *tls_, options);
}

bool AgentLink::Reachable() {
  base::Result<std::unique_ptr<client::AgentClient>> c = Connect();
  if (!c.ok()) spdlog::debug("agent {} not reachable: {}", target_.name, c.status().message());
  return c.ok();
}

base::Status AgentLink::Shutdown() {
  base::Result<std::unique_ptr<client::AgentClient>> c = Connect();
  if (!c.ok()) return c.status();
  return (*c)->Call(proto::type::kShutdown).status();
}

}  // namespace sb::power
