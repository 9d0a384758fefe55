// libFuzzer target for everything that parses bytes from the network: the
// frame decoder, chunk headers and the CBOR message decoder. Built by
// scripts/fuzz with clang; not part of the ctest suite.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/proto/frame.h"
#include "agent/proto/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // The input as one message payload.
  sb::base::Result<sb::proto::Message> direct = sb::proto::DecodeMessage(bytes);
  if (direct.ok()) {
    // Whatever decodes must re-encode to bytes that decode and re-encode to
    // themselves. (Bytes, not values: a NaN in a body never equals itself.)
    std::string once = sb::proto::EncodeMessage(*direct);
    sb::base::Result<sb::proto::Message> again = sb::proto::DecodeMessage(once);
    if (!again.ok() || sb::proto::EncodeMessage(*again) != once) __builtin_trap();
  }

  // The input as a stream of frames, fed in two uneven parts.
  sb::proto::FrameDecoder decoder(64 * 1024);
  decoder.Feed(bytes.substr(0, size / 3));
  decoder.Feed(bytes.substr(size / 3));
  sb::proto::Frame frame;
  for (int i = 0; i < 1000; ++i) {
    sb::base::Result<bool> got = decoder.Next(&frame);
    if (!got.ok() || !*got) break;
    if (frame.kind == sb::proto::FrameKind::kMessage) {
      (void)sb::proto::DecodeMessage(frame.payload);
    } else {
      uint64_t id = 0;
      std::string_view chunk;
      (void)sb::proto::ParseChunk(frame.payload, &id, &chunk);
    }
  }
  return 0;
}
