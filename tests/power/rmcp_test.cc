// RMCP+ key derivation and integrity against known answers computed by an
// independent implementation: Python's hmac and hashlib, run by the test.

#include "standby/power/rmcp.h"

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"

namespace sb::power::rmcp {
namespace {

std::string Hex(const Bytes& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char c : b) {
    out += kDigits[static_cast<uint8_t>(c) >> 4];
    out += kDigits[static_cast<uint8_t>(c) & 15];
  }
  return out;
}

// Fixed inputs of a session, the same in C++ and in the Python below.
SessionSecrets Inputs(CipherSuite suite) {
  SessionSecrets s;
  s.suite = suite;
  s.console_id = 0xa0a1a2a3;
  s.bmc_id = 0x01020304;
  for (int i = 0; i < 16; ++i) {
    s.console_random += static_cast<char>(i);
    s.bmc_random += static_cast<char>(0x80 + i);
    s.bmc_guid += static_cast<char>(0x40 + i);
  }
  s.role = kNameOnlyLookup | kPrivilegeOperator;
  s.username = "admin";
  s.kuid = *PasswordKey("s3cret-bmc");
  DeriveKeys(&s);
  return s;
}

constexpr const char* kPython = R"py(
import hashlib, hmac, struct, sys
h = hashlib.sha256 if sys.argv[1] == "17" else hashlib.sha1
n = 32 if sys.argv[1] == "17" else 20
icv = 16 if sys.argv[1] == "17" else 12
kuid = b"s3cret-bmc".ljust(20, b"\0")
sidm, sidc = struct.pack("<I", 0xa0a1a2a3), struct.pack("<I", 0x01020304)
rm, rc, guid = bytes(range(16)), bytes(range(0x80, 0x90)), bytes(range(0x40, 0x50))
role_name = bytes([0x13, 5]) + b"admin"
mac = lambda k, m: hmac.new(k, m, h).digest()
sik = mac(kuid, rm + rc + role_name)
print(mac(kuid, sidm + sidc + rm + rc + guid + role_name).hex())
print(mac(kuid, rc + sidm + role_name).hex())
print(sik.hex())
print(mac(sik, b"\x01" * n).hex())
print(mac(sik, b"\x02" * n).hex())
print(mac(sik, rm + sidc + guid)[:icv].hex())
)py";

TEST_CASE("rmcp: key exchange and session keys match Python's hmac", "[rmcp]") {
  for (CipherSuite suite : {CipherSuite::kSuite3, CipherSuite::kSuite17}) {
    const std::string number = suite == CipherSuite::kSuite17 ? "17" : "3";
    DYNAMIC_SECTION("cipher suite " << number) {
      base::ProcessSpec spec;
      spec.argv = {"python3", "-c", kPython, number};
      base::Result<base::ProcessResult> py = base::RunProcess(spec);
      REQUIRE(py.ok());
      INFO(py->err);
      REQUIRE(py->exit_code == 0);
      SessionSecrets s = Inputs(suite);
      std::string ours = Hex(Rakp2AuthCode(s)) + "\n" + Hex(Rakp3AuthCode(s)) + "\n" + Hex(s.sik) +
                         "\n" + Hex(s.k1) + "\n" + Hex(s.k2) + "\n" + Hex(Rakp4Icv(s)) + "\n";
      CHECK(ours == py->out);
    }
  }
}

TEST_CASE("rmcp: an in-session request decodes back with keys, and not without", "[rmcp]") {
  SessionSecrets s = Inputs(CipherSuite::kSuite17);
  Bytes packet = EncodeSessionRequest(s, 7, 0x00, 0x01, 3, "", Bytes(16, '\x55'));
  base::Result<Packet> p = DecodePacket(packet, &s);
  REQUIRE(p.ok());
  CHECK(p->encrypted);
  CHECK(p->authenticated);
  CHECK(p->sequence == 7);
  CHECK(p->session_id == s.bmc_id);
  CHECK(p->payload.size() == 7);  // the IPMI request, padding removed
  CHECK(DecodePacket(packet, nullptr).status().message() ==
        "BMC reply is authenticated before a session exists");
  Bytes tampered = packet;
  tampered[20] ^= 1;
  CHECK(DecodePacket(tampered, &s).status().message() == "BMC reply failed the integrity check");
}

TEST_CASE("rmcp: malformed BMC replies are refused with the reason", "[rmcp]") {
  CHECK(DecodePacket("short", nullptr).status().message() == "BMC reply is too short (5 bytes)");
  CHECK(DecodePacket(Bytes(20, '\0'), nullptr).status().message() ==
        "BMC reply is not an RMCP packet of class IPMI");
  Bytes long_claim = EncodePreSession(kOpenSessionResponse, "abc");
  long_claim[14] = 100;
  CHECK(DecodePacket(long_claim, nullptr).status().message() ==
        "BMC reply declares a 100-byte payload but has 3 bytes");
  CHECK(DecodeIpmiResponse(Bytes("\x81\x1c\x63\x20\x00\x01\x00\x00", 8)).status().message() ==
        "IPMI response has a bad checksum");
  CHECK(PasswordKey(std::string(21, 'x')).status().message() ==
        "the BMC password is longer than IPMI's 20 bytes");
}

TEST_CASE("rmcp: Set Session Privilege's own completion codes have words", "[rmcp]") {
  CHECK(SetPrivilegeText(0x80) == "the requested privilege level is not available for this user");
  CHECK(SetPrivilegeText(0x81) ==
        "the requested privilege level exceeds the user's or the channel's limit");
  CHECK(SetPrivilegeText(0x82) == "the BMC cannot disable user-level authentication");
  CHECK(SetPrivilegeText(0xD4) == "insufficient privilege level");  // the general codes still
  CHECK(CompletionText(0x81) == "completion code 0x81");            // command-specific elsewhere
}

TEST_CASE("rmcp: keys are compared in constant time and wiped", "[rmcp]") {
  CHECK(SameBytes("abc", "abc"));
  CHECK_FALSE(SameBytes("abc", "abd"));
  CHECK_FALSE(SameBytes("abc", "ab"));
  CHECK(SameBytes("", ""));
  SessionSecrets s = Inputs(CipherSuite::kSuite17);
  DeriveKeys(&s);
  REQUIRE(s.k1.size() == 32);
  // The bytes are overwritten before the strings are emptied: look at the
  // buffer through a pointer taken before.
  const char* k1 = s.k1.data();
  const std::string before(k1, 32);
  s.Wipe();
  CHECK(s.kuid.empty());
  CHECK(s.sik.empty());
  CHECK(s.k1.empty());
  CHECK(s.k2.empty());
  CHECK(std::string(k1, 32) == std::string(32, '\0'));
  CHECK(before != std::string(32, '\0'));
}

}  // namespace
}  // namespace sb::power::rmcp
