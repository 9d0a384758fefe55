#include "standby/power/rmcp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <memory>

#include <fmt/format.h>

namespace sb::power::rmcp {
namespace {

using base::Status;

constexpr char kRmcpHeader[] = {0x06, 0x00, static_cast<char>(0xff), 0x07};
constexpr uint8_t kAuthTypeRmcpPlus = 0x06;
constexpr uint8_t kBmcAddress = 0x20;
constexpr uint8_t kConsoleAddress = 0x81;

void PutLe16(uint16_t v, Bytes* out) {
  out->push_back(static_cast<char>(v));
  out->push_back(static_cast<char>(v >> 8));
}
uint32_t GetLe(std::string_view b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  return v;
}

uint8_t Checksum(std::string_view bytes) {
  uint8_t sum = 0;
  for (char c : bytes) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(c));
  return static_cast<uint8_t>(-sum);
}

Bytes IpmiRequest(uint8_t netfn, uint8_t cmd, uint8_t rq_seq, std::string_view data) {
  Bytes m;
  m.push_back(static_cast<char>(kBmcAddress));
  m.push_back(static_cast<char>(netfn << 2));
  m.push_back(static_cast<char>(Checksum(m)));
  const size_t body = m.size();
  m.push_back(static_cast<char>(kConsoleAddress));
  m.push_back(static_cast<char>(rq_seq << 2));
  m.push_back(static_cast<char>(cmd));
  m.append(data);
  m.push_back(static_cast<char>(Checksum(std::string_view(m).substr(body))));
  return m;
}

size_t HashLength(CipherSuite suite) { return suite == CipherSuite::kSuite17 ? 32 : 20; }

// The bytes RAKP messages hash after the randoms: role, name length, name.
Bytes RoleAndName(const SessionSecrets& s) {
  Bytes b;
  b.push_back(static_cast<char>(s.role));
  b.push_back(static_cast<char>(s.username.size()));
  b.append(s.username);
  return b;
}

base::Result<Bytes> AesCbc(bool encrypt, std::string_view key, std::string_view iv,
                           std::string_view in) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  Bytes out(in.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* v = reinterpret_cast<const unsigned char*>(iv.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, k, v, encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||
      EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n1,
                       reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) != 1) {
    return Status::Invalid("AES-CBC-128 failed");
  }
  out.resize(static_cast<size_t>(n1) + static_cast<size_t>(n2));
  return out;
}

}  // namespace

void AppendLe32(uint32_t value, Bytes* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(value >> (8 * i)));
}

uint32_t ReadLe32(std::string_view bytes, size_t at) { return GetLe(bytes, at, 4); }

Bytes Hmac(CipherSuite suite, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(suite == CipherSuite::kSuite17 ? EVP_sha256() : EVP_sha1(), key.data(),
       static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  Bytes result(reinterpret_cast<char*>(out), len);
  OPENSSL_cleanse(out, sizeof out);  // the session keys pass through here
  return result;
}

bool SameBytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WipeBytes(Bytes* bytes) {
  if (!bytes->empty()) OPENSSL_cleanse(bytes->data(), bytes->size());
  bytes->clear();
}

void SessionSecrets::Wipe() {
  WipeBytes(&kuid);
  WipeBytes(&sik);
  WipeBytes(&k1);
  WipeBytes(&k2);
}

base::Result<Bytes> PasswordKey(std::string_view password) {
  if (password.size() > 20) {
    return Status::Invalid("the BMC password is longer than IPMI's 20 bytes");
  }
  Bytes key(password);
  key.resize(20, '\0');
  return key;
}

Bytes Rakp2AuthCode(const SessionSecrets& s) {
  Bytes b;
  AppendLe32(s.console_id, &b);
  AppendLe32(s.bmc_id, &b);
  b += s.console_random + s.bmc_random + s.bmc_guid + RoleAndName(s);
  return Hmac(s.suite, s.kuid, b);
}

Bytes Rakp3AuthCode(const SessionSecrets& s) {
  Bytes b = s.bmc_random;
  AppendLe32(s.console_id, &b);
  b += RoleAndName(s);
  return Hmac(s.suite, s.kuid, b);
}

void DeriveKeys(SessionSecrets* s) {
  WipeBytes(&s->sik);
  WipeBytes(&s->k1);
  WipeBytes(&s->k2);
  s->sik = Hmac(s->suite, s->kuid, s->console_random + s->bmc_random + RoleAndName(*s));
  s->k1 = Hmac(s->suite, s->sik, Bytes(HashLength(s->suite), '\x01'));
  s->k2 = Hmac(s->suite, s->sik, Bytes(HashLength(s->suite), '\x02'));
}

Bytes Rakp4Icv(const SessionSecrets& s) {
  Bytes b = s.console_random;
  AppendLe32(s.bmc_id, &b);
  b += s.bmc_guid;
  return Hmac(s.suite, s.sik, b).substr(0, IntegrityLength(s.suite));
}

size_t IntegrityLength(CipherSuite suite) { return suite == CipherSuite::kSuite17 ? 16 : 12; }

Bytes EncodeV15Request(uint8_t netfn, uint8_t cmd, uint8_t seq, std::string_view data) {
  Bytes msg = IpmiRequest(netfn, cmd, seq, data);
  Bytes p(kRmcpHeader, sizeof kRmcpHeader);
  p.push_back(0x00);  // auth type none
  AppendLe32(0, &p);  // session sequence
  AppendLe32(0, &p);  // session id
  p.push_back(static_cast<char>(msg.size()));
  return p + msg;
}

Bytes EncodePreSession(PayloadType type, std::string_view payload) {
  Bytes p(kRmcpHeader, sizeof kRmcpHeader);
  p.push_back(static_cast<char>(kAuthTypeRmcpPlus));
  p.push_back(static_cast<char>(type));
  AppendLe32(0, &p);
  AppendLe32(0, &p);
  PutLe16(static_cast<uint16_t>(payload.size()), &p);
  p.append(payload);
  return p;
}

Bytes EncodeSessionRequest(const SessionSecrets& s, uint32_t sequence, uint8_t netfn, uint8_t cmd,
                           uint8_t rq_seq, std::string_view data, std::string_view iv) {
  Bytes plain = IpmiRequest(netfn, cmd, rq_seq, data);
  // Confidentiality trailer: pad bytes 1, 2, ... n, then n, to a block.
  const size_t pad = (16 - (plain.size() + 1) % 16) % 16;
  for (size_t i = 1; i <= pad; ++i) plain.push_back(static_cast<char>(i));
  plain.push_back(static_cast<char>(pad));
  Bytes payload(iv);
  payload += *AesCbc(true, std::string_view(s.k2).substr(0, 16), iv, plain);

  Bytes session;  // from the auth type through the next header: what the AuthCode covers
  session.push_back(static_cast<char>(kAuthTypeRmcpPlus));
  session.push_back(static_cast<char>(0xC0 | kIpmiMessage));  // encrypted, authenticated
  AppendLe32(s.bmc_id, &session);
  AppendLe32(sequence, &session);
  PutLe16(static_cast<uint16_t>(payload.size()), &session);
  session += payload;
  const size_t integrity_pad = (4 - (session.size() + 2) % 4) % 4;
  session.append(integrity_pad, static_cast<char>(0xff));
  session.push_back(static_cast<char>(integrity_pad));
  session.push_back(0x07);  // next header
  Bytes code = Hmac(s.suite, s.k1, session).substr(0, IntegrityLength(s.suite));
  return Bytes(kRmcpHeader, sizeof kRmcpHeader) + session + code;
}

base::Result<Packet> DecodePacket(std::string_view d, const SessionSecrets* s) {
  if (d.size() < 16)
    return Status::Invalid(fmt::format("BMC reply is too short ({} bytes)", d.size()));
  if (d[0] != 0x06 || d[3] != 0x07) {
    return Status::Invalid("BMC reply is not an RMCP packet of class IPMI");
  }
  if (static_cast<uint8_t>(d[4]) != kAuthTypeRmcpPlus) {
    return Status::Invalid(
        fmt::format("BMC reply has auth type {:#04x}, not RMCP+", static_cast<uint8_t>(d[4])));
  }
  Packet p;
  const uint8_t type_byte = static_cast<uint8_t>(d[5]);
  p.encrypted = (type_byte & 0x80) != 0;
  p.authenticated = (type_byte & 0x40) != 0;
  p.type = static_cast<PayloadType>(type_byte & 0x3f);
  p.session_id = GetLe(d, 6, 4);
  p.sequence = GetLe(d, 10, 4);
  const size_t length = GetLe(d, 14, 2);
  if (16 + length > d.size()) {
    return Status::Invalid(fmt::format("BMC reply declares a {}-byte payload but has {} bytes",
                                       length, d.size() - 16));
  }
  std::string_view payload = d.substr(16, length);
  if (p.authenticated) {
    if (s == nullptr || s->k1.empty()) {
      return Status::Invalid("BMC reply is authenticated before a session exists");
    }
    const size_t code_len = IntegrityLength(s->suite);
    if (d.size() < 16 + length + 2 + code_len) {
      return Status::Invalid("BMC reply is too short for its integrity trailer");
    }
    std::string_view covered = d.substr(4, d.size() - 4 - code_len);
    std::string_view code = d.substr(d.size() - code_len);
    if (!SameBytes(Hmac(s->suite, s->k1, covered).substr(0, code_len), code)) {
      return Status::Invalid("BMC reply failed the integrity check");
    }
  } else if (p.type == kIpmiMessage && s != nullptr && !s->k1.empty()) {
    return Status::Invalid("BMC reply is not authenticated inside the session");
  }
  if (!p.encrypted) {
    p.payload = Bytes(payload);
    return p;
  }
  if (s == nullptr || s->k2.empty() || payload.size() < 32 || payload.size() % 16 != 0) {
    return Status::Invalid("BMC reply is encrypted in a way this session cannot read");
  }
  base::Result<Bytes> plain = AesCbc(false, std::string_view(s->k2).substr(0, 16),
                                     payload.substr(0, 16), payload.substr(16));
  if (!plain.ok()) return plain.status();
  const size_t pad = static_cast<uint8_t>(plain->back());
  if (pad > 15 || pad + 1 > plain->size()) {
    return Status::Invalid("BMC reply has a bad confidentiality pad");
  }
  plain->resize(plain->size() - pad - 1);
  p.payload = std::move(*plain);
  return p;
}

base::Result<IpmiResponse> DecodeIpmiResponse(std::string_view m) {
  if (m.size() < 8) {
    return Status::Invalid(fmt::format("IPMI response of {} bytes is too short", m.size()));
  }
  if (Checksum(m.substr(0, 2)) != static_cast<uint8_t>(m[2]) ||
      Checksum(m.substr(3, m.size() - 4)) != static_cast<uint8_t>(m.back())) {
    return Status::Invalid("IPMI response has a bad checksum");
  }
  IpmiResponse r;
  r.netfn = static_cast<uint8_t>(static_cast<uint8_t>(m[1]) >> 2);
  r.rq_seq = static_cast<uint8_t>(static_cast<uint8_t>(m[4]) >> 2);
  r.cmd = static_cast<uint8_t>(m[5]);
  r.completion = static_cast<uint8_t>(m[6]);
  r.data = Bytes(m.substr(7, m.size() - 8));
  return r;
}

base::Result<IpmiResponse> DecodeV15Response(std::string_view d) {
  if (d.size() < 14 || d[0] != 0x06 || d[3] != 0x07) {
    return Status::Invalid("BMC reply is not an RMCP packet of class IPMI");
  }
  if (d[4] != 0x00) return Status::Invalid("BMC reply is authenticated though its request was not");
  const size_t length = static_cast<uint8_t>(d[13]);
  if (14 + length > d.size()) return Status::Invalid("BMC reply is shorter than it declares");
  return DecodeIpmiResponse(d.substr(14, length));
}

std::string_view StatusCodeText(uint8_t code) {
  static constexpr std::string_view kTexts[] = {
      "no errors",
      "insufficient resources to create a session",
      "invalid session ID",
      "invalid payload type",
      "invalid authentication algorithm",
      "invalid integrity algorithm",
      "no matching authentication payload",
      "no matching integrity payload",
      "inactive session ID",
      "invalid role",
      "unauthorized role or privilege level requested",
      "insufficient resources to create a session at the requested role",
      "invalid name length",
      "unauthorized name",
      "unauthorized GUID",
      "invalid integrity check value",
      "invalid confidentiality algorithm",
      "no cipher suite match with proposed security algorithms",
      "illegal or unrecognized parameter",
  };
  return code < std::size(kTexts) ? kTexts[code] : "unknown status";
}

std::string CompletionText(uint8_t code) {
  switch (code) {
    case 0x00:
      return "ok";
    case 0xC0:
      return "node busy";
    case 0xC1:
      return "invalid command";
    case 0xC3:
      return "timeout";
    case 0xC7:
      return "request data length invalid";
    case 0xCC:
      return "invalid data field in request";
    case 0xD4:
      return "insufficient privilege level";
    case 0xD5:
      return "command not supported in present state";
    default:
      return fmt::format("completion code {:#04x}", code);
  }
}

std::string SetPrivilegeText(uint8_t code) {
  switch (code) {
    case 0x80:
      return "the requested privilege level is not available for this user";
    case 0x81:
      return "the requested privilege level exceeds the user's or the channel's limit";
    case 0x82:
      return "the BMC cannot disable user-level authentication";
    default:
      return CompletionText(code);
  }
}

}  // namespace sb::power::rmcp
