#include "agent/proto/frame.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace sb::proto {
namespace {

void PutU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t GetBigEndian(std::string_view bytes, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace

void AppendFrame(FrameKind kind, std::string_view payload, std::string* out) {
  PutU32(static_cast<uint32_t>(payload.size()), out);
  out->push_back(static_cast<char>(kind));
  out->append(payload);
}

void AppendChunk(uint64_t request_id, std::string_view bytes, std::string* out) {
  PutU32(static_cast<uint32_t>(bytes.size() + 8), out);
  out->push_back(static_cast<char>(FrameKind::kChunk));
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>(request_id >> shift));
  }
  out->append(bytes);
}

base::Status ParseChunk(std::string_view payload, uint64_t* request_id, std::string_view* bytes) {
  if (payload.size() < 8) {
    return base::Status::Invalid(fmt::format(
        "data chunk of {} bytes is shorter than its 8-byte request id", payload.size()));
  }
  *request_id = GetBigEndian(payload, 8);
  *bytes = payload.substr(8);
  return base::Status::Ok();
}

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes)
    : max_frame_bytes_(std::min(max_frame_bytes, kMaxFrameBytes)) {}

void FrameDecoder::Feed(std::string_view bytes) {
  std::memcpy(PrepareWrite(bytes.size()), bytes.data(), bytes.size());
  Commit(bytes.size());
}

char* FrameDecoder::PrepareWrite(size_t min_bytes) {
  // Drop what was consumed before growing, so the buffer stays bounded by
  // about one frame plus one read.
  if (consumed_ > 0 && (consumed_ == filled_ || buffer_.size() - filled_ < min_bytes)) {
    std::memmove(buffer_.data(), buffer_.data() + consumed_, filled_ - consumed_);
    filled_ -= consumed_;
    consumed_ = 0;
  }
  if (buffer_.size() - filled_ < min_bytes) buffer_.resize(filled_ + min_bytes);
  return buffer_.data() + filled_;
}

void FrameDecoder::Commit(size_t bytes) { filled_ += bytes; }

base::Result<bool> FrameDecoder::Next(Frame* frame) {
  std::string_view pending(buffer_.data() + consumed_, filled_ - consumed_);
  if (pending.size() < kFrameHeaderBytes) return false;
  const uint32_t length = static_cast<uint32_t>(GetBigEndian(pending, 4));
  const uint8_t kind = static_cast<uint8_t>(pending[4]);
  if (kind != static_cast<uint8_t>(FrameKind::kMessage) &&
      kind != static_cast<uint8_t>(FrameKind::kChunk)) {
    return base::Status::Invalid(fmt::format("unknown frame kind {}", kind));
  }
  const uint32_t limit = kind == static_cast<uint8_t>(FrameKind::kMessage)
                             ? std::min(max_frame_bytes_, kMaxMessageBytes)
                             : max_frame_bytes_;
  if (length > limit) {
    return base::Status::Invalid(
        fmt::format("frame of {} bytes is over the limit of {} bytes", length, limit));
  }
  if (pending.size() < kFrameHeaderBytes + length) return false;
  frame->kind = static_cast<FrameKind>(kind);
  frame->payload = pending.substr(kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  return true;
}

}  // namespace sb::proto
