// Test support: a throw-away PKI (made with standbyctl's own pki library)
// and an in-process AgentServer on 127.0.0.1 with a free port.

#ifndef TESTS_SUPPORT_AGENT_FIXTURE_H_
#define TESTS_SUPPORT_AGENT_FIXTURE_H_

#include <memory>
#include <string>

#include "agent/client/agent_client.h"
#include "agent/server/agent_server.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

// CA, controller, two agents (web1-standby, web1), and the certificates an
// attacker might hold: one from another CA, an expired one, and an agent's
// certificate used as a client's.
struct TestPki {
  TestPki();
  TempDir dir;
  net::TlsFiles controller, standby_agent, primary_agent;
  net::TlsFiles other_ca_controller, expired_controller, agent_as_client;
  std::string Path(const std::string& name) const { return dir.Sub("pki/" + name); }
};

class TestAgent {
 public:
  // Starts an agent with `role` and a short idle timeout on 127.0.0.1:0.
  TestAgent(const TestPki& pki, agent::Role role,
            std::chrono::milliseconds idle_timeout = std::chrono::seconds(30),
            std::vector<std::string> data_roots = {});
  ~TestAgent();

  uint16_t port() const { return server_->port(); }
  base::Endpoint endpoint() const { return {"127.0.0.1", port()}; }
  agent::AgentServer& server() { return *server_; }
  const std::string& shutdown_marker() const { return shutdown_marker_; }

  // A controller connected with the right certificate.
  std::unique_ptr<client::AgentClient> Controller() const;

 private:
  const TestPki& pki_;
  agent::Role role_;
  std::string shutdown_marker_;
  std::unique_ptr<agent::AgentServer> server_;
};

// Writes dir/standbyctl.toml: a controller with `pki`'s certificate and a
// standby "web1-standby" whose agent listens on 127.0.0.1:`agent_port`, power
// by commands that do nothing, and one restore mapping (with the TOML lines
// `mapping_extra` added to it); returns its path.
std::string WriteRestoreConfig(const TempDir& dir, const TestPki& pki, int agent_port,
                               const std::string& source, const std::string& target,
                               const std::string& mapping_extra = "");

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_AGENT_FIXTURE_H_
