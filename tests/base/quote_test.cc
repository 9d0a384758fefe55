// What a peer's string becomes in a log line or an error message.

#include "agent/base/quote.h"

#include <catch2/catch.hpp>

namespace sb::base {
namespace {

TEST_CASE("quote: control characters and bytes that are not UTF-8 are escaped", "[base]") {
  CHECK(Quote("check-appdb") == "\"check-appdb\"");
  CHECK(Quote("a\nb\r\tc\x7f") == "\"a\\x0ab\\x0d\\x09c\\x7f\"");
  CHECK(Quote("say \"hi\" \\ bye") == "\"say \\\"hi\\\" \\\\ bye\"");
  CHECK(Quote("space name ü.txt") == "\"space name ü.txt\"");  // UTF-8 stays readable
  CHECK(Quote("bad \xc3 \xff \xed\xa0\x80") == "\"bad \\xc3 \\xff \\xed\\xa0\\x80\"");
  CHECK(Printable("a\nb \"q\"") == "a\\x0ab \"q\"");
}

TEST_CASE("quote: a long string is cut at the bound and its length said", "[base]") {
  const std::string long_name(1 << 20, 'x');
  CHECK(Quote(long_name) == "\"" + std::string(256, 'x') + "\"...(1048576 bytes)");
  CHECK(Printable(long_name, 10) == "xxxxxxxxxx...(1048576 bytes)");
  CHECK(Quote("short", 256) == "\"short\"");
  // A multi-byte character is never cut in two.
  CHECK(Printable("ééé", 3) == "éé...(6 bytes)");
}

}  // namespace
}  // namespace sb::base
