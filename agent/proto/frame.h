// Frames: the unit on the wire between controller and agent.
//
//   u32  payload length, big-endian (the 5-byte header not included)
//   u8   kind: 1 = message (a CBOR map, see message.h), 2 = data chunk
//   ...  payload
//
// A data chunk's payload is a u64 big-endian request id followed by raw
// bytes that belong to that request. Sizes are checked from the header alone,
// so an oversized frame is refused before any of it is buffered. The codec is
// pure (no I/O); a FrameDecoder is used by one thread at a time.

#ifndef AGENT_PROTO_FRAME_H_
#define AGENT_PROTO_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::proto {

inline constexpr size_t kFrameHeaderBytes = 5;
inline constexpr uint32_t kMaxFrameBytes = 4u << 20;    // hard limit, any kind
inline constexpr uint32_t kMaxMessageBytes = 1u << 20;  // message frames

enum class FrameKind : uint8_t { kMessage = 1, kChunk = 2 };

// A decoded frame. `payload` points into the decoder's buffer and is valid
// only until the decoder (or the Channel holding it) is called again: copy
// what must outlive that. Bulk data is thereby never copied on its way in.
struct Frame {
  FrameKind kind = FrameKind::kMessage;
  std::string_view payload;
};

// Appends the encoding of a frame to `out`.
void AppendFrame(FrameKind kind, std::string_view payload, std::string* out);
// A chunk frame: the request id, then the bytes.
void AppendChunk(uint64_t request_id, std::string_view bytes, std::string* out);
// Splits a chunk payload; fails when it is shorter than the id.
base::Status ParseChunk(std::string_view payload, uint64_t* request_id, std::string_view* bytes);

// Incremental decoder: feed it bytes as they arrive, take frames out.
class FrameDecoder {
 public:
  // `max_frame_bytes` may lower, never raise, kMaxFrameBytes.
  explicit FrameDecoder(uint32_t max_frame_bytes = kMaxFrameBytes);

  void Feed(std::string_view bytes);

  // Zero-copy feeding: a writable area of at least `min_bytes` at the end of
  // the buffer, then Commit() of how many bytes were written into it.
  char* PrepareWrite(size_t min_bytes);
  void Commit(size_t bytes);

  // Takes the next complete frame into `*frame` and returns true; returns
  // false when more bytes are needed. A bad header (unknown kind, length over
  // the limit) is an error; the stream cannot be resynchronized after it.
  base::Result<bool> Next(Frame* frame);

  // Bytes received but not yet returned as frames.
  size_t buffered() const { return filled_ - consumed_; }

 private:
  uint32_t max_frame_bytes_;
  std::string buffer_;
  size_t filled_ = 0;    // bytes of buffer_ holding data (the rest is write room)
  size_t consumed_ = 0;  // bytes of that data already returned as frames
};

}  // namespace sb::proto

#endif  // AGENT_PROTO_FRAME_H_
