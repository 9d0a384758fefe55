#include "agent/net/channel.h"

#include <fmt/format.h>

namespace sb::net {

Channel::Channel(std::unique_ptr<TlsStream> stream, uint32_t max_frame_bytes)
    : stream_(std::move(stream)), decoder_(max_frame_bytes) {}

base::Result<proto::Frame> Channel::ReadFrame(Deadline deadline) {
  char buffer[64 * 1024];
  for (;;) {
    proto::Frame frame;
    base::Result<bool> got = decoder_.Next(&frame);
    if (!got.ok()) return got.status();
    if (*got) return frame;
    base::Result<size_t> n = stream_->Read(buffer, sizeof buffer, deadline);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      return base::Status::Unavailable(
          decoder_.buffered() == 0 ? "the peer closed the connection"
                                   : "the peer closed the connection in the middle of a frame");
    }
    decoder_.Feed(std::string_view(buffer, *n));
  }
}

base::Result<proto::Message> Channel::ReadMessage(Deadline deadline) {
  base::Result<proto::Frame> frame = ReadFrame(deadline);
  if (!frame.ok()) return frame.status();
  if (frame->kind != proto::FrameKind::kMessage) {
    return base::Status::Invalid("a data chunk came where a message was expected");
  }
  return proto::DecodeMessage(frame->payload);
}

base::Status Channel::WriteMessage(const proto::Message& message, Deadline deadline) {
  out_.clear();
  proto::AppendFrame(proto::FrameKind::kMessage, proto::EncodeMessage(message), &out_);
  return stream_->Write(out_, deadline);
}

base::Status Channel::WriteChunk(uint64_t request_id, std::string_view bytes, Deadline deadline) {
  out_.clear();
  proto::AppendChunk(request_id, bytes, &out_);
  return stream_->Write(out_, deadline);
}

base::Status Channel::WriteRaw(std::string_view bytes, Deadline deadline) {
  return stream_->Write(bytes, deadline);
}

}  // namespace sb::net
