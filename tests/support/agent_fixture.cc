#include "tests/support/agent_fixture.h"

#include <stdexcept>

#include "standby/pki/pki.h"

namespace sb::testing {
namespace {

net::TlsFiles Issue(const std::string& dir, net::PeerRole role, const std::string& name,
                    std::chrono::seconds backdate = std::chrono::seconds(0)) {
  pki::IssueOptions options;
  options.role = role;
  options.name = name;
  options.backdate = backdate;
  base::Result<pki::IssuedFiles> files = pki::Issue(dir, options);
  if (!files.ok()) throw std::runtime_error(files.status().message());
  return {dir + "/ca.crt", files->cert, files->key};
}

}  // namespace

TestPki::TestPki() {
  const std::string ca = dir.Sub("pki");
  const std::string other = dir.Sub("other-pki");
  if (!pki::InitCa(ca).ok() || !pki::InitCa(other).ok()) {
    throw std::runtime_error("cannot create test CAs");
  }
  controller = Issue(ca, net::PeerRole::kController, "controller");
  standby_agent = Issue(ca, net::PeerRole::kAgent, "web1-standby");
  primary_agent = Issue(ca, net::PeerRole::kAgent, "web1");
  agent_as_client = Issue(ca, net::PeerRole::kAgent, "imposter");
  expired_controller =
      Issue(ca, net::PeerRole::kController, "expired", std::chrono::hours(24 * 731));
  other_ca_controller = Issue(other, net::PeerRole::kController, "controller");
}

TestAgent::TestAgent(const TestPki& pki, agent::Role role, std::chrono::milliseconds idle,
                     std::vector<std::string> data_roots)
    : pki_(pki), role_(role), shutdown_marker_(pki.dir.Sub("shutdown-ran")) {
  agent::AgentConfig config;
  config.data_roots = std::move(data_roots);
  config.state_dir = pki.dir.Sub("agent-state");
  config.listen = {"127.0.0.1", 0};
  config.role = role;
  config.tls = role == agent::Role::kStandby ? pki.standby_agent : pki.primary_agent;
  if (role == agent::Role::kStandby) {
    config.shutdown = {"/bin/sh", "-c", "touch " + shutdown_marker_};
  }
  config.commands["hello"] = {{"/bin/echo", "hello from the agent"}, std::chrono::seconds(10)};
  config.commands["sleep"] = {{"/bin/sleep", "30"}, std::chrono::milliseconds(300)};
  config.limits.idle_timeout = idle;
  config.limits.handshake_timeout = std::chrono::seconds(5);
  base::Result<net::TlsContext> tls = net::TlsContext::ForServer(config.tls);
  if (!tls.ok()) throw std::runtime_error(tls.status().message());
  server_ = std::make_unique<agent::AgentServer>(config, *tls);
  base::Status s = server_->Start();
  if (!s.ok()) throw std::runtime_error(s.message());
}

TestAgent::~TestAgent() { server_->Stop(); }

std::unique_ptr<client::AgentClient> TestAgent::Controller() const {
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(pki_.controller);
  if (!tls.ok()) throw std::runtime_error(tls.status().message());
  client::AgentTarget target{endpoint(), role_ == agent::Role::kStandby ? "web1-standby" : "web1"};
  base::Result<std::unique_ptr<client::AgentClient>> c = client::AgentClient::Connect(target, *tls);
  if (!c.ok()) throw std::runtime_error(c.status().message());
  return std::move(*c);
}

std::string WriteRestoreConfig(const TempDir& dir, const TestPki& pki, int agent_port,
                               const std::string& source, const std::string& target,
                               const std::string& mapping_extra) {
  return dir.Write(
      "standbyctl.toml",
      "[controller]\nstate_dir = \"" + dir.Sub("state") + "\"\n[controller.tls]\nca = \"" +
          pki.controller.ca + "\"\ncert = \"" + pki.controller.cert + "\"\nkey = \"" +
          pki.controller.key + "\"\n[[standby]]\nname = \"web1-standby\"\nagent = \"127.0.0.1:" +
          std::to_string(agent_port) +
          "\"\npower = { driver = \"command\", on = [\"true\"], off = [\"true\"], status = "
          "[\"true\"] }\n[[standby.restore]]\nsource = \"" +
          source + "\"\ntarget = \"" + target + "\"\n" + mapping_extra);
}

}  // namespace sb::testing
