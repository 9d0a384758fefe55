#include "agent/proto/cbor_shape.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace sb::proto {
namespace {

std::string Cbor(const nlohmann::json& j) {
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

TEST_CASE("cbor shape: what our encoder writes passes", "[cbor]") {
  nlohmann::json j = {{"id", 1},
                      {"type", "Ping"},
                      {"n", -5},
                      {"f", 1.5},
                      {"b", true},
                      {"z", nullptr},
                      {"list", {1, "two", {{"k", 3}}}},
                      {"big", 1u << 31},
                      {"text", std::string(300, 'x')}};
  CHECK(CheckCborShape(Cbor(j), 16).ok());
}

TEST_CASE("cbor shape: hostile shapes are refused with the offset", "[cbor]") {
  struct Row {
    const char* what;
    std::string bytes;
    const char* message;
  } rows[] = {
      {"nested indefinite byte strings (the fuzzer's stack overflow)",
       std::string("\x81\x5f\x5f\x5f", 4),
       "bad CBOR at byte 1: indefinite-length items are not used in this protocol"},
      {"a tag", std::string("\xc1\x01", 2),
       "bad CBOR at byte 0: tags are not used in this protocol"},
      {"trailing bytes", std::string("\x01\x02", 2),
       "bad CBOR at byte 1: trailing bytes after the message"},
      {"truncated string",
       std::string("\x65"
                   "ab",
                   3),
       "bad CBOR at byte 0: string runs past the end of the input"},
      {"truncated length", std::string("\x19\x01", 2), "bad CBOR at byte 0: truncated length"},
      {"huge array", std::string("\x9b\x9b\x3f\xfd\x8b\xb1\x8d\x96\x79\x70", 10),
       "bad CBOR at byte 0: container declares more items than the input holds"},
      {"missing items", std::string("\x82\x01", 2),
       "bad CBOR at byte 0: container declares more items than the input holds"},
      {"reserved info", std::string("\x1c", 1),
       "bad CBOR at byte 0: reserved additional information"},
      {"empty input", std::string(), "bad CBOR at byte 0: unexpected end of input"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    base::Status s = CheckCborShape(r.bytes, 16);
    CHECK(s.message() == r.message);
  }
}

TEST_CASE("cbor shape: depth is counted in containers", "[cbor]") {
  std::string sixteen(16, '\x81');
  sixteen.push_back('\x01');
  CHECK(CheckCborShape(sixteen, 16).ok());
  std::string seventeen(17, '\x81');
  seventeen.push_back('\x01');
  CHECK(CheckCborShape(seventeen, 16).message() == "message nests deeper than 16 levels");
}

}  // namespace
}  // namespace sb::proto
