// IPMI v2.0 RMCP+ on the wire: packet layouts, the RAKP key exchange and its
// session keys, integrity (HMAC-SHA1-96, HMAC-SHA256-128) and confidentiality
// (AES-CBC-128), per the IPMI v2.0 specification, section 13.
//
// Pure functions over byte strings (OpenSSL for the cryptography); no I/O,
// so the session logic (ipmi_session.h) is testable and the decoders can be
// fuzzed. Thread-safe.

#ifndef STANDBY_POWER_RMCP_H_
#define STANDBY_POWER_RMCP_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::power::rmcp {

using Bytes = std::string;  // raw bytes

// The cipher suites we speak. Both use AES-CBC-128 for confidentiality.
enum class CipherSuite : uint8_t {
  kSuite3 = 3,    // RAKP-HMAC-SHA1, HMAC-SHA1-96
  kSuite17 = 17,  // RAKP-HMAC-SHA256, HMAC-SHA256-128
};

enum PayloadType : uint8_t {
  kIpmiMessage = 0x00,
  kOpenSessionRequest = 0x10,
  kOpenSessionResponse = 0x11,
  kRakp1 = 0x12,
  kRakp2 = 0x13,
  kRakp3 = 0x14,
  kRakp4 = 0x15,
};

inline constexpr uint8_t kPrivilegeUser = 0x02;
inline constexpr uint8_t kPrivilegeOperator = 0x03;
inline constexpr uint8_t kNameOnlyLookup = 0x10;  // RAKP 1 role bit: match by name alone

// The RAKP exchange's inputs and the keys derived from them.
struct SessionSecrets {
  CipherSuite suite = CipherSuite::kSuite3;
  uint32_t console_id = 0;  // SIDm, chosen by us
  uint32_t bmc_id = 0;      // SIDc, chosen by the BMC
  Bytes console_random;     // Rm, 16 bytes
  Bytes bmc_random;         // Rc, 16 bytes
  Bytes bmc_guid;           // GUIDc, 16 bytes
  uint8_t role = 0;         // the RAKP 1 role byte, exactly as sent
  std::string username;
  Bytes kuid;  // the password, zero-padded to 20 bytes

  Bytes sik, k1, k2;  // set by DeriveKeys

  // Not copied, so that no copy of the keys outlives its wiping.
  SessionSecrets() = default;
  SessionSecrets(const SessionSecrets&) = delete;
  SessionSecrets& operator=(const SessionSecrets&) = delete;
  SessionSecrets(SessionSecrets&&) = default;
  SessionSecrets& operator=(SessionSecrets&&) = delete;
  ~SessionSecrets() { Wipe(); }
  // Overwrites the password key and the session keys (OPENSSL_cleanse) and
  // empties them.
  void Wipe();
};

// Compares two byte strings in time that does not depend on where they
// differ (CRYPTO_memcmp): for authentication codes.
bool SameBytes(std::string_view a, std::string_view b);
// Overwrites `bytes` (OPENSSL_cleanse) and empties it.
void WipeBytes(Bytes* bytes);

// Little-endian integers, as IPMI puts them on the wire.
void AppendLe32(uint32_t value, Bytes* out);
uint32_t ReadLe32(std::string_view bytes, size_t at);  // `at + 4` must be in range

// HMAC with the suite's hash (SHA-1 for 3, SHA-256 for 17).
Bytes Hmac(CipherSuite suite, std::string_view key, std::string_view data);

// Kuid: the password as a 20-byte key. Fails for passwords over 20 bytes.
base::Result<Bytes> PasswordKey(std::string_view password);

// The key exchange authentication code the BMC sends in RAKP 2.
Bytes Rakp2AuthCode(const SessionSecrets& s);
// The one we send in RAKP 3.
Bytes Rakp3AuthCode(const SessionSecrets& s);
// SIK, K1, K2 (SIK keyed with Kuid: no BMC key, Kg, is configured).
void DeriveKeys(SessionSecrets* s);
// The integrity check value the BMC sends in RAKP 4 (12 or 16 bytes).
Bytes Rakp4Icv(const SessionSecrets& s);
// Length of the AuthCode that ends each authenticated packet: 12 or 16.
size_t IntegrityLength(CipherSuite suite);

// A pre-session IPMI v1.5 packet (auth type none) carrying one request,
// for Get Channel Authentication Capabilities.
Bytes EncodeV15Request(uint8_t netfn, uint8_t cmd, uint8_t seq, std::string_view data);

// A pre-session RMCP+ packet (session id 0, unauthenticated).
Bytes EncodePreSession(PayloadType type, std::string_view payload);

// An in-session RMCP+ packet carrying an IPMI request, encrypted with K2 and
// authenticated with K1. `iv` is 16 random bytes.
Bytes EncodeSessionRequest(const SessionSecrets& s, uint32_t sequence, uint8_t netfn, uint8_t cmd,
                           uint8_t rq_seq, std::string_view data, std::string_view iv);

struct Packet {
  PayloadType type = kIpmiMessage;
  bool encrypted = false;
  bool authenticated = false;
  uint32_t session_id = 0;
  uint32_t sequence = 0;
  Bytes payload;  // decrypted when the packet was encrypted
};

// Parses an RMCP+ packet from the BMC; checks the AuthCode and decrypts when
// `s` has keys (s may be null before the session). Errors say what is wrong.
base::Result<Packet> DecodePacket(std::string_view datagram, const SessionSecrets* s);

struct IpmiResponse {
  uint8_t netfn = 0;
  uint8_t cmd = 0;
  uint8_t rq_seq = 0;
  uint8_t completion = 0;
  Bytes data;
};

// Parses the IPMI message in a payload (checksums included).
base::Result<IpmiResponse> DecodeIpmiResponse(std::string_view message);

// Parses a v1.5 response packet (Get Channel Authentication Capabilities).
base::Result<IpmiResponse> DecodeV15Response(std::string_view datagram);

// The RMCP+ status codes of open session and RAKP replies, as text.
std::string_view StatusCodeText(uint8_t code);
// IPMI completion codes, as text.
std::string CompletionText(uint8_t code);
// The completion codes of Set Session Privilege Level (0x80-0x82 are its
// own), as text; the others as CompletionText.
std::string SetPrivilegeText(uint8_t code);

}  // namespace sb::power::rmcp

#endif  // STANDBY_POWER_RMCP_H_
