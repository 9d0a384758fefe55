#include "agent/base/endpoint.h"

#include <catch2/catch.hpp>

namespace sb::base {
namespace {

TEST_CASE("endpoint: host, host:port and bracketed IPv6 parse", "[endpoint]") {
  CHECK(*ParseEndpoint("127.0.0.3", 7443) == Endpoint{"127.0.0.3", 7443});
  CHECK(*ParseEndpoint("agent.example.net:9000", 7443) == Endpoint{"agent.example.net", 9000});
  CHECK(*ParseEndpoint("[::1]:8443", 7443) == Endpoint{"::1", 8443});
  CHECK(*ParseEndpoint("[fd00::7]", 7443) == Endpoint{"fd00::7", 7443});
  CHECK(ParseEndpoint("[fd00::7]:1", 0)->ToString() == "[fd00::7]:1");
  CHECK(ParseEndpoint("h:2", 0)->ToString() == "h:2");
}

TEST_CASE("endpoint: malformed endpoints name the problem", "[endpoint]") {
  CHECK(ParseEndpoint("h", 0).status().message() == "\"h\": missing port, like \"host:7443\"");
  CHECK(ParseEndpoint("h:x", 1).status().message() ==
        "\"h:x\": port \"x\" is not a number from 1 to 65535");
  CHECK(ParseEndpoint("[::1", 1).status().message() == "\"[::1\": missing ']' after IPv6 address");
  CHECK(ParseEndpoint("[::1]x", 1).status().message() == "\"[::1]x\": expected ':' after ']'");
  CHECK(ParseEndpoint("a b:1", 1).status().message() ==
        "\"a b:1\": \"a b\" is not a host name or address");
  CHECK(ParseEndpoint(":80", 1).status().message() ==
        "\":80\": \"\" is not a host name or address");
}

}  // namespace
}  // namespace sb::base
