#include "agent/proto/frame.h"

#include <catch2/catch.hpp>

namespace sb::proto {
namespace {

TEST_CASE("frame: frames split across reads come out whole and in order", "[frame]") {
  std::string wire;
  AppendFrame(FrameKind::kMessage, "first", &wire);
  AppendChunk(42, "bytes", &wire);
  AppendFrame(FrameKind::kMessage, "", &wire);
  FrameDecoder decoder;
  std::vector<std::pair<FrameKind, std::string>> frames;  // copies: views die on Feed
  for (char c : wire) {                                   // one byte at a time, the worst split
    decoder.Feed(std::string_view(&c, 1));
    Frame f;
    for (;;) {
      base::Result<bool> got = decoder.Next(&f);
      REQUIRE(got.ok());
      if (!*got) break;
      frames.emplace_back(f.kind, std::string(f.payload));
    }
  }
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].second == "first");
  CHECK(frames[1].first == FrameKind::kChunk);
  uint64_t id = 0;
  std::string_view bytes;
  REQUIRE(ParseChunk(frames[1].second, &id, &bytes).ok());
  CHECK(id == 42);
  CHECK(bytes == "bytes");
  CHECK(frames[2].second.empty());
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("frame: an oversized or unknown header is refused before its payload", "[frame]") {
  FrameDecoder decoder(64 * 1024);
  decoder.Feed(std::string("\x00\x01\x00\x01\x02", 5));  // 65537-byte chunk
  Frame f;
  base::Result<bool> got = decoder.Next(&f);
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().message() == "frame of 65537 bytes is over the limit of 65536 bytes");

  FrameDecoder messages;
  messages.Feed(std::string("\x00\x10\x00\x01\x01", 5));  // messages are capped at 1 MiB
  CHECK(messages.Next(&f).status().message() ==
        "frame of 1048577 bytes is over the limit of 1048576 bytes");

  FrameDecoder kinds;
  kinds.Feed(std::string("\x00\x00\x00\x01\x07", 5));
  CHECK(kinds.Next(&f).status().message() == "unknown frame kind 7");
}

TEST_CASE("frame: a chunk shorter than its request id is refused", "[frame]") {
  uint64_t id;
  std::string_view bytes;
  CHECK(ParseChunk("1234567", &id, &bytes).message() ==
        "data chunk of 7 bytes is shorter than its 8-byte request id");
}

}  // namespace
}  // namespace sb::proto
