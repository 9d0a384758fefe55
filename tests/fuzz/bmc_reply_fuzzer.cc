// libFuzzer target for what the IPMI client parses from the network: RMCP+
// packets (with and without session keys), IPMI responses, and v1.5 replies.
// Built by scripts/fuzz with clang; not part of the ctest suite.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "standby/power/rmcp.h"

namespace rmcp = sb::power::rmcp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const rmcp::SessionSecrets* keys = [] {
    auto* s = new rmcp::SessionSecrets;
    s->suite = rmcp::CipherSuite::kSuite3;
    s->kuid = std::string(20, 'k');
    s->console_random = std::string(16, 'r');
    s->bmc_random = std::string(16, 'b');
    s->username = "admin";
    rmcp::DeriveKeys(s);
    return s;
  }();
  (void)rmcp::DecodePacket(bytes, nullptr);
  sb::base::Result<rmcp::Packet> p = rmcp::DecodePacket(bytes, keys);
  if (p.ok()) (void)rmcp::DecodeIpmiResponse(p->payload);
  (void)rmcp::DecodeIpmiResponse(bytes);
  (void)rmcp::DecodeV15Response(bytes);
  if (size > 0) (void)rmcp::StatusCodeText(data[0]);
  return 0;
}
