// A Channel sends and receives frames (agent/proto) over a TlsStream: the
// layer both the agent's connections and the controller's client use. One
// thread at a time.

#ifndef AGENT_NET_CHANNEL_H_
#define AGENT_NET_CHANNEL_H_

#include <memory>
#include <string>

#include "agent/base/status.h"
#include "agent/net/tls_stream.h"
#include "agent/proto/frame.h"
#include "agent/proto/message.h"

namespace sb::net {

class Channel {
 public:
  Channel(std::unique_ptr<TlsStream> stream, uint32_t max_frame_bytes = proto::kMaxFrameBytes);

  // The next frame. Errors: kTimeout when none completes by the deadline,
  // kUnavailable when the peer closed, kInvalidArgument for a bad header.
  base::Result<proto::Frame> ReadFrame(Deadline deadline);
  // The next frame decoded as a message; a chunk here is an error.
  base::Result<proto::Message> ReadMessage(Deadline deadline);

  base::Status WriteMessage(const proto::Message& message, Deadline deadline);
  base::Status WriteChunk(uint64_t request_id, std::string_view bytes, Deadline deadline);
  // Writes bytes as they are: for tests that need to send broken frames.
  base::Status WriteRaw(std::string_view bytes, Deadline deadline);

  void Close() { stream_->Close(); }
  // Safe from another thread: makes a blocked read or write fail now.
  void Interrupt() { stream_->Interrupt(); }
  // Bytes on the wire both ways so far (see TlsStream).
  uint64_t wire_bytes() const { return stream_->bytes_sent() + stream_->bytes_received(); }

 private:
  std::unique_ptr<TlsStream> stream_;
  proto::FrameDecoder decoder_;
  std::string out_;  // reused encode buffer
};

}  // namespace sb::net

#endif  // AGENT_NET_CHANNEL_H_
