// The agent's network side: a TCP listener whose connections are each served
// by one thread (TLS handshake, role check, then request after request in
// order). A controller may pipeline: requests queue in the connection and are
// answered in order, and the agent reads the next request only when it has
// answered the previous one, so TCP flow control is the backpressure.
//
// Every connection, its peer's certificate subject, and every refusal is
// logged with the reason. Start() and Stop() from one owning thread; the
// server's own threads do the rest.

#ifndef AGENT_SERVER_AGENT_SERVER_H_
#define AGENT_SERVER_AGENT_SERVER_H_

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "agent/base/status.h"
#include "agent/net/tls.h"
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
    int wake_fd = -1;   // a dup of the socket; guarded by mu_
    bool done = false;  // guarded by mu_
  };

  void AcceptLoop();
  void Serve(int fd);
  void ReapFinished();

  AgentConfig config_;
  net::TlsContext tls_;
  Operations operations_;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> refused_{0};
  std::mutex mu_;
  std::list<Connection> connections_;  // guarded by mu_
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_AGENT_SERVER_H_
