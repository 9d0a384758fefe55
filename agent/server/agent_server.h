// The agent's network side: a TCP listener whose connections are each served
// by one thread (TLS handshake, role check, then request after request in
// order). A controller may pipeline: requests queue in the connection and are
// answered in order, and the agent reads the next request only when it has
// answered the previous one, so TCP flow control is the backpressure.
//
// Connections nobody has authenticated cannot crowd out a controller's:
// handshakes in progress have limits of their own (limits.max_handshakes in
// all, max_handshakes_per_address from one address, each bounded by
// handshake_timeout), apart from authenticated sessions
// (limits.max_connections). A connection from an address already at its
// limit is closed at once; when all handshake slots are taken, the oldest
// handshake of the busiest address is cut to make room. So a flood from
// some addresses leaves a controller on another address served, and the
// server's threads and descriptors stay bounded.
//
// Every connection, its peer's certificate subject, and every refusal is
// logged with the reason; refusals a peer can cause at will are logged
// within a budget, the rest summed up. Start() and Stop() from one owning
// thread; the server's own threads do the rest.

#ifndef AGENT_SERVER_AGENT_SERVER_H_
#define AGENT_SERVER_AGENT_SERVER_H_

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/base/file.h"
#include "agent/base/status.h"
#include "agent/net/tls.h"
#include "agent/server/log_budget.h"
#include "agent/server/operations.h"

namespace sb::agent {

class AgentServer {
 public:
  AgentServer(const AgentConfig& config, net::TlsContext tls, HostSeams seams = {});
  ~AgentServer();  // stops

  // Binds the configured address (port 0 picks a free port) and starts
  // accepting. Errors name the address.
  base::Status Start();
  // The bound port, after Start.
  uint16_t port() const { return port_; }
  // Stops accepting, closes every connection, joins every thread.
  void Stop();

  // Counters for tests and logs.
  int connections_refused() const { return refused_.load(); }

 private:
  struct Connection {
    std::thread thread;
    int wake_fd = -1;            // a dup of the socket; guarded by mu_
    bool done = false;           // guarded by mu_
    bool authenticated = false;  // past the handshake and role check; guarded by mu_
    bool cut = false;            // its handshake was cut to make room; guarded by mu_
    std::string host;            // the peer's address
  };

  // Takes the state directory's lock (STATE_DIR/agent.lock, holding this
  // agent's pid) for the agent's life: two agents sharing a state_dir would
  // each take the other's running restores for interrupted ones.
  base::Status LockStateDirectory();
  void AcceptLoop();
  // Takes a new connection in, or closes it when its address is at its
  // limit; cuts the oldest handshake of the busiest address when every
  // handshake slot is taken. With mu_ held.
  void Admit(int fd);
  void Serve(int fd, Connection* self);
  void ReapFinished();
  // Logs a refusal a peer can cause at will, within its budget.
  void LogRefusal(LogBudget& budget, const std::string& line);

  AgentConfig config_;
  net::TlsContext tls_;
  Operations operations_;
  base::UniqueFd state_lock_;  // standby role: held while the agent runs
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> refused_{0};
  std::mutex mu_;
  std::list<Connection> connections_;                      // guarded by mu_
  LogBudget refused_log_{20, std::chrono::seconds(10)};    // closed at once, cut
  LogBudget handshake_log_{20, std::chrono::seconds(10)};  // failed handshakes
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_AGENT_SERVER_H_
