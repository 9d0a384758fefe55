#include "agent/net/channel.h"

#include <fmt/format.h>

namespace sb::net {

Channel::Channel(std::unique_ptr<TlsStream> stream, uint32_t max_frame_bytes)
    : stream_(std::move(stream)), decoder_(max_frame_bytes) {}

base::Result<proto::Frame> Channel::ReadFrame(Deadline deadline) {
  constexpr size_t kReadBytes = size_t{256} * 1024;
  for (;;) {
    proto::Frame frame;
    base::Result<bool> got = decoder_.Next(&frame);
    if (!got.ok()) return got.status();
    if (*got) return frame;
    // Read straight into the decoder's buffer: no copy on the bulk path.
    base::Result<size_t> n = stream_->Read(decoder_.PrepareWrite(kReadBytes), kReadBytes, deadline);
    if (!n.ok()) return n.status();
    if (*n == 0) {
      return base::Status::Unavailable(
          decoder_.buffered() == 0 ? "the peer closed the connection"
                                   : "the peer closed the connection in the middle of a frame");
    }
    decoder_.Commit(*n);
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
  const std::string payload = proto::EncodeMessage(message);
  if (payload.size() > proto::kMaxMessageBytes) {
    // The peer would close the connection over it: say why here instead.
    return base::Status::Invalid(
        fmt::format("{} message of {} bytes is over the protocol's limit of {} bytes", message.type,
                    payload.size(), proto::kMaxMessageBytes));
  }
  out_.clear();
  proto::AppendFrame(proto::FrameKind::kMessage, payload, &out_);
  return stream_->Write(out_, deadline);
}

base::Status Channel::WriteChunk(uint64_t request_id, std::string_view bytes, Deadline deadline) {
  out_.clear();
  if (bytes.size() < size_t{64} * 1024) {
    proto::AppendChunk(request_id, bytes, &out_);
    return stream_->Write(out_, deadline);
  }
  // Large chunks: the header goes first on its own, so the payload is
  // encrypted from the caller's buffer instead of being copied.
  proto::AppendChunk(request_id, {}, &out_);
  const uint32_t length = static_cast<uint32_t>(bytes.size() + 8);
  for (int i = 0; i < 4; ++i)
    out_[static_cast<size_t>(i)] = static_cast<char>(length >> (24 - 8 * i));
  SB_RETURN_IF_ERROR(stream_->Write(out_, deadline));
  return stream_->Write(bytes, deadline);
}

base::Status Channel::WriteRaw(std::string_view bytes, Deadline deadline) {
  return stream_->Write(bytes, deadline);
}

}  // namespace sb::net
