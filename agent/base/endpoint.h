// A network endpoint as written in configs: "host:port", "[v6addr]:port", or
// "host" alone with a default port. Value type; thread-safe.

#ifndef AGENT_BASE_ENDPOINT_H_
#define AGENT_BASE_ENDPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::base {

struct Endpoint {
  std::string host;  // a name or an address, without brackets
  uint16_t port = 0;

  // "host:port", with brackets around IPv6 addresses.
  std::string ToString() const;
  bool operator==(const Endpoint&) const = default;
};

// `default_port` is used when the text has none; 0 makes the port required.
Result<Endpoint> ParseEndpoint(std::string_view text, uint16_t default_port);

}  // namespace sb::base

#endif  // AGENT_BASE_ENDPOINT_H_
