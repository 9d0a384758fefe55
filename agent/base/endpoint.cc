#include "agent/base/endpoint.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace sb::base {
namespace {

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Endpoint::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<Endpoint> ParseEndpoint(std::string_view text, uint16_t default_port) {
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Status::Invalid(fmt::format("\"{}\": missing ']' after IPv6 address", text));
    }
    ep.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return Status::Invalid(fmt::format("\"{}\": expected ':' after ']'", text));
    }
    if (!rest.empty()) port_text = rest.substr(1);
    if (ep.host.empty()) return Status::Invalid(fmt::format("\"{}\": empty address", text));
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) {
      return Status::Invalid(
          fmt::format("\"{}\": write IPv6 addresses in brackets, like \"[::1]:7443\"", text));
    }
    ep.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
    if (!ValidHostName(ep.host)) {
      return Status::Invalid(
          fmt::format("\"{}\": \"{}\" is not a host name or address", text, ep.host));
    }
  }
  if (port_text.empty()) {
    if (default_port == 0) {
      return Status::Invalid(fmt::format("\"{}\": missing port, like \"host:7443\"", text));
    }
    ep.port = default_port;
    return ep;
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Status::Invalid(
        fmt::format("\"{}\": port \"{}\" is not a number from 1 to 65535", text, port_text));
  }
  ep.port = static_cast<uint16_t>(port);
  return ep;
}

}  // namespace sb::base
