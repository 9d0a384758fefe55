// A TLS connection over a TCP socket with a deadline on every operation.
//
// The socket is non-blocking; each call polls until it can make progress or
// its deadline passes, so no peer can hold a thread forever. A TlsStream is
// used by one thread at a time (OpenSSL forbids concurrent use of one SSL).

#ifndef AGENT_NET_TLS_STREAM_H_
#define AGENT_NET_TLS_STREAM_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/endpoint.h"
#include "agent/base/status.h"
#include "agent/net/tls.h"

typedef struct bio_st BIO;

namespace sb::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline Deadline After(std::chrono::milliseconds d) { return Clock::now() + d; }

class TlsStream {
 public:
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Server side: takes ownership of the accepted socket `fd` and completes
  // the handshake, which verifies the client's certificate chain. The role
  // check is the caller's (CheckPeerRole), so it can log who was refused.
  static base::Result<std::unique_ptr<TlsStream>> Accept(int fd, const TlsContext& ctx,
                                                         const std::string& peer,
                                                         Deadline deadline);

  // Client side: connects to `endpoint`, completes the handshake, and checks
  // that the server's certificate names `expected_name` and carries the
  // agent role.
  static base::Result<std::unique_ptr<TlsStream>> Connect(const base::Endpoint& endpoint,
                                                          const TlsContext& ctx,
                                                          const std::string& expected_name,
                                                          Deadline deadline);

  // Reads up to `size` bytes; 0 means the peer closed the connection.
  base::Result<size_t> Read(char* buffer, size_t size, Deadline deadline);
  // Writes all of `data`.
  base::Status Write(std::string_view data, Deadline deadline);
  // Sends close_notify (best effort, bounded) and closes the socket.
  void Close();
  // Shuts the socket down so that a Read or Write blocked in another thread
  // fails at once. The one call that is safe from another thread; the
  // stream is unusable afterwards.
  void Interrupt();

  // Bytes this connection has put on and taken off the socket (TLS records,
  // handshake included): what travelled, not what the application sent.
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t bytes_received() const;

  SSL* ssl() const { return ssl_; }
  const std::string& peer() const { return peer_; }  // "host:port"

 private:
  TlsStream(int fd, SSL* ssl, std::string peer);
  base::Status FlushOut(Deadline deadline);
  // Runs `op` (an SSL call) until it succeeds, fails, or the deadline passes.
  template <typename Op>
  base::Result<int> Drive(Op op, Deadline deadline, const char* what);

  int fd_;
  SSL* ssl_;
  std::string peer_;
  std::string outgoing_;  // encrypted records not yet sent; see FlushOut
  uint64_t bytes_sent_ = 0;
};

// "host:port" of a connected socket's peer.
std::string PeerAddress(int fd);
// The peer's address alone ("127.0.0.1", "::1"), what per-address limits
// count by; "?" when it cannot be read.
std::string PeerHost(int fd);

// Waits until `fd` is ready for `events` (poll(2)); false when the
// deadline passed first. An error on the socket counts as ready, for the
// next call to report.
bool WaitFor(int fd, short events, Deadline deadline);

// A non-blocking TCP socket connected to `endpoint` (each of its addresses
// tried in turn) by `deadline`. The caller closes it.
base::Result<int> ConnectTcp(const base::Endpoint& endpoint, Deadline deadline);

}  // namespace sb::net

#endif  // AGENT_NET_TLS_STREAM_H_
