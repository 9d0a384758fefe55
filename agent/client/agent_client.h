// The controller's side of the channel: connects to an agent over mutual TLS,
// says Hello, and sends requests. Call() is one request and its reply;
// Send()/Receive() let a caller keep many requests in flight (pipelining),
// bounded by max_in_flight so neither side buffers without limit.
//
// One AgentClient per thread; it owns its connection.

#ifndef AGENT_CLIENT_AGENT_CLIENT_H_
#define AGENT_CLIENT_AGENT_CLIENT_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/base/endpoint.h"
#include "agent/base/status.h"
#include "agent/net/channel.h"
#include "agent/net/tls.h"
#include "agent/proto/message.h"

namespace sb::client {

struct AgentTarget {
  base::Endpoint endpoint;
  std::string name;  // the name the agent's certificate must carry
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{30'000};
  int max_in_flight = 64;
};

// What the agent said in its Hello reply.
struct AgentHello {
  int protocol = 0;
  std::string agent_version;
  std::string role;
  std::string host_id;
  std::string boot_id;
  std::vector<std::string> capabilities;
  // When the agent's certificate expires (from the TLS handshake, not the
  // reply), ms since the epoch.
  std::optional<int64_t> cert_not_after_ms;
};

class AgentClient {
 public:
  // Connects, verifies the agent (chain, name, role), and says Hello.
  static base::Result<std::unique_ptr<AgentClient>> Connect(const AgentTarget& target,
                                                            const net::TlsContext& tls,
                                                            const ClientOptions& options = {});

  const AgentHello& hello() const { return hello_; }

  // One request, waiting for its reply. An Error reply becomes its Status.
  base::Result<nlohmann::json> Call(std::string_view type, nlohmann::json body = {});

  // Pipelining: Send returns the request id; Receive returns the next reply
  // in order. Send fails once max_in_flight replies are outstanding.
  base::Result<uint64_t> Send(std::string_view type, nlohmann::json body = {});
  base::Result<proto::Message> Receive();
  int in_flight() const { return in_flight_; }

  // Multi-part replies (Scan): ReceivePart reads each part without counting
  // the request as answered; FinishReply marks it answered after the last.
  base::Result<proto::Message> ReceivePart();
  void FinishReply() { --in_flight_; }

  // Data chunks: SendChunk sends bytes that belong to request `id` (sent
  // just before); ReceiveFrame reads the next frame as it is, for replies
  // that carry chunks. Its payload is valid until the next receive.
  base::Status SendChunk(uint64_t id, std::string_view bytes);
  base::Result<proto::Frame> ReceiveFrame();

  // The one call safe from another thread: breaks the connection so that a
  // request blocked on it fails now (a drill's deadline or a SIGINT).
  void Interrupt() { channel_->Interrupt(); }
  // For tests that must speak badly on purpose.
  net::Channel& channel() { return *channel_; }

 private:
  AgentClient(std::unique_ptr<net::Channel> channel, ClientOptions options)
      : channel_(std::move(channel)), options_(options) {}

  std::unique_ptr<net::Channel> channel_;
  ClientOptions options_;
  std::string name_;  // "agent NAME at HOST:PORT", for error messages
  AgentHello hello_;
  uint64_t next_id_ = 1;
  int in_flight_ = 0;
};

}  // namespace sb::client

#endif  // AGENT_CLIENT_AGENT_CLIENT_H_
