#include "agent/proto/message.h"

#include <catch2/catch.hpp>

namespace sb::proto {
namespace {

std::string Cbor(const nlohmann::json& j) {
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

TEST_CASE("message: a message survives encoding and decoding", "[message]") {
  Message m;
  m.id = 7;
  m.type = "RunCommand";
  m.body = {{"name", "check"}};
  m.deadline_ms = 1500;
  base::Result<Message> back = DecodeMessage(EncodeMessage(m));
  REQUIRE(back.ok());
  CHECK(back->id == 7);
  CHECK(back->type == "RunCommand");
  CHECK(back->body == m.body);
  CHECK(back->deadline_ms == 1500u);
}

TEST_CASE("message: the size bound is never below the encoded size", "[message]") {
  const std::string path(4096, 'p');
  const nlohmann::json rows[] = {
      nullptr,
      true,
      -1,
      uint64_t{1} << 63,
      1.5,
      "",
      path,
      nlohmann::json::binary(std::vector<uint8_t>(70000, 7)),
      nlohmann::json::array(),
      {{"path", path}, {"size", uint64_t{1} << 40}, {"mode", 0644}, {"xattrs", {1, 2, 3}}},
      nlohmann::json::array({{{"path", "a"}, {"mtime", -5}}, {{"path", path}}, {1, {2, {3}}}}),
  };
  for (const nlohmann::json& j : rows) {
    INFO(j.dump().substr(0, 80));
    CHECK(CborSizeBound(j) >= Cbor(j).size());
  }
}

TEST_CASE("message: malformed messages are refused with the reason", "[message]") {
  struct Row {
    const char* what;
    std::string payload;
    const char* message;
  } rows[] = {
      {"not a map", Cbor({1, 2}), "message is not a CBOR map"},
      {"no id", Cbor({{"type", "Ping"}}), "message has no \"id\""},
      {"negative id", Cbor({{"id", -1}, {"type", "Ping"}}),
       "message field \"id\" is not an unsigned integer"},
      {"no type", Cbor({{"id", 1}}), "message has no \"type\""},
      {"empty type", Cbor({{"id", 1}, {"type", ""}}), "message field \"type\" is not a name"},
      {"body not a map", Cbor({{"id", 1}, {"type", "Ping"}, {"body", 3}}),
       "message field \"body\" is not a map"},
      {"unknown field", Cbor({{"id", 1}, {"type", "Ping"}, {"extra", 1}}),
       "message has unknown field \"extra\""},
      {"huge deadline", Cbor({{"id", 1}, {"type", "Ping"}, {"deadline_ms", 1ull << 40}}),
       "message field \"deadline_ms\" is not a 32-bit count"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    base::Result<Message> m = DecodeMessage(r.payload);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().message() == r.message);
  }
  CHECK(DecodeMessage("\xff").status().message().starts_with("message is not valid CBOR"));
  CHECK(DecodeMessage("").status().message().starts_with("message is not valid CBOR"));
}

TEST_CASE("message: deep nesting is refused without exhausting the stack", "[message]") {
  // 100,000 nested one-element arrays: would recurse 100,000 times unchecked.
  std::string deep(100'000, '\x81');
  deep.push_back('\x01');
  base::Result<Message> m = DecodeMessage(deep);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message() == "message nests deeper than 16 levels");
}

TEST_CASE("message: inputs the fuzzer found are refused, not thrown", "[message]") {
  // An array declaring 0x3ffd8bb18d967970 elements made nlohmann throw
  // out_of_range past allow_exceptions=false, which terminated the process.
  const std::string huge_array("\x9b\x9b\x3f\xfd\x8b\xb1\x8d\x96\x79\x70", 10);
  base::Result<Message> m = DecodeMessage(huge_array);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().starts_with("message is not valid CBOR"));
}

TEST_CASE("message: an error reply carries its code and message back", "[message]") {
  Message reply = ErrorReply(9, base::Status::PermissionDenied("no"));
  CHECK(reply.type == "Error");
  base::Status s = StatusFromError(reply);
  CHECK(s.code() == base::Code::kPermissionDenied);
  CHECK(s.message() == "no");
  Message odd;
  odd.type = "Error";
  odd.body = {{"code", 5}};
  CHECK(StatusFromError(odd).code() == base::Code::kInternal);
}

}  // namespace
}  // namespace sb::proto
