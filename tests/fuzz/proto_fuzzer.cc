// libFuzzer target for everything that parses bytes from the network: the
// frame decoder, chunk headers, the CBOR message decoder, and the manifest
// records, directories' digests and directory indices of a scan. Built by
// scripts/fuzz with clang; not part of the ctest suite.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/proto/frame.h"
#include "agent/proto/message.h"
#include "agent/sync/manifest_codec.h"

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

  // The input as a scan reply's records. What reads must write back to
  // records that read as the same entries.
  {
    sb::sync::RecordReader reader(bytes);
    sb::sync::RecordWriter writer;
    std::vector<sb::sync::ManifestEntry> entries;
    for (int i = 0; i < 100'000; ++i) {
      sb::sync::ManifestEntry e;
      sb::base::Result<bool> got = reader.Next(&e);
      if (!got.ok() || !*got) break;
      writer.Add(e);
      entries.push_back(std::move(e));
    }
    const std::vector<uint8_t> out = writer.Take();
    sb::sync::RecordReader again(sb::sync::CharsOf(out));
    for (const sb::sync::ManifestEntry& e : entries) {
      sb::sync::ManifestEntry back;
      sb::base::Result<bool> got = again.Next(&back);
      if (!got.ok() || !*got || !(back == e)) __builtin_trap();
    }
  }

  // The input as a scan's directories' digests, and as a ScanChildren
  // request's indices.
  {
    sb::sync::RecordReader reader(bytes);
    sb::sync::DirectoryDigest d;
    for (int i = 0; i < 100'000; ++i) {
      sb::base::Result<bool> got = reader.NextDirectory(&d);
      if (!got.ok() || !*got) break;
    }
    (void)sb::sync::DecodeIndices(bytes, 1000);
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
