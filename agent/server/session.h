// One connection's conversation with a controller, without the I/O: Hello
// must come first and agree on a protocol version; then each request is
// checked against the role and dispatched to Operations. Pure enough to test
// without sockets. One Session per connection, used by its thread only.

#ifndef AGENT_SERVER_SESSION_H_
#define AGENT_SERVER_SESSION_H_

#include <optional>
#include <string>
#include <vector>

#include "agent/proto/message.h"
#include "agent/server/operations.h"
#include "agent/server/restore_handler.h"

namespace sb::agent {

struct SessionReply {
  std::vector<proto::Message> parts;  // sent before `reply` (multi-part replies)
  proto::Message reply;
  bool close = false;   // close the connection after sending the reply
  std::string refusal;  // non-empty when the request was refused: why, for the log
};

class Session {
 public:
  explicit Session(const Operations& operations)
      : ops_(operations), restore_(operations.config()) {}

  // `io` carries the request's data chunks; without it, a request that
  // needs chunks fails.
  SessionReply Handle(const proto::Message& request, ChunkIo* io = nullptr);
  bool greeted() const { return greeted_; }

 private:
  SessionReply Refuse(const proto::Message& request, const base::Status& status, bool close);
  SessionReply Answer(proto::Message reply);

  const Operations& ops_;
  RestoreHandler restore_;
  std::optional<KeptScan> kept_scan_;  // for ScanChildren
  bool greeted_ = false;
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_SESSION_H_
