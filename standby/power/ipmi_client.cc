#include "standby/power/ipmi_client.h"

#include <netdb.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "standby/power/rmcp.h"

namespace sb::power {
namespace {

using base::Result;
using base::Status;

std::string Attempts(int n) { return fmt::format("{} attempt{}", n, n == 1 ? "" : "s"); }

// Replies that came but were not taken, counted by why. A reason is said
// of one reply ("is too short (12 bytes)", "failed the integrity check").
using Rejected = std::map<std::string, int>;

// `why`, said of one reply, as said in the past of `n` replies: "2 were
// too short (12 bytes)".
std::string Agree(std::string_view why, int n) {
  struct Verb {
    std::string_view now, one, many;
  };
  static constexpr Verb kVerbs[] = {{"is ", "was ", "were "},
                                    {"was ", "was ", "were "},
                                    {"has ", "had ", "had "},
                                    {"declares ", "declared ", "declared "}};
  for (const Verb& v : kVerbs) {
    if (why.substr(0, v.now.size()) != v.now) continue;
    return fmt::format("{} {}{}", n, n == 1 ? v.one : v.many, why.substr(v.now.size()));
  }
  return fmt::format("{} {}", n, why);
}

// "no reply", or, when replies came but none was taken, how many and why.
std::string NoReply(const Rejected& rejected) {
  if (rejected.empty()) return "no reply";
  int total = 0;
  std::string reasons;
  for (const auto& [why, n] : rejected) {
    total += n;
    reasons += ", " + Agree(why, n);
  }
  return fmt::format("no valid reply: {} {} rejected{}", total, total == 1 ? "reply" : "replies",
                     reasons);
}

// Why a reply DecodePacket refused was rejected: its message without the
// "BMC reply " it starts with ("failed the integrity check").
std::string Refused(const Status& status) {
  std::string_view m = status.message();
  constexpr std::string_view kPrefix = "BMC reply ";
  if (m.substr(0, kPrefix.size()) == kPrefix) m.remove_prefix(kPrefix.size());
  return std::string(m);
}
using rmcp::Bytes;
using Clock = std::chrono::steady_clock;

constexpr uint8_t kNetFnChassis = 0x00;
constexpr uint8_t kNetFnApp = 0x06;
constexpr uint8_t kCmdGetChannelAuthCaps = 0x38;
constexpr uint8_t kCmdSetSessionPrivilege = 0x3B;
constexpr uint8_t kCmdCloseSession = 0x3C;
constexpr uint8_t kCmdGetChassisStatus = 0x01;
constexpr uint8_t kCmdChassisControl = 0x02;

// One lock and one clock per BMC: never two sessions at once, and a minimum
// interval between commands, whoever in this process sends them.
struct BmcGate {
  std::mutex mu;
  Clock::time_point last_command{};
};

BmcGate& GateFor(const base::Endpoint& bmc) {
  static std::mutex map_mu;
  static std::map<std::string, BmcGate> gates;
  std::lock_guard<std::mutex> lock(map_mu);
  return gates[bmc.ToString()];
}

Bytes Random(size_t n) {
  Bytes b(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(n));
  return b;
}

// A UDP socket connected to the BMC.
class Datagrams {
 public:
  ~Datagrams() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open(const base::Endpoint& bmc) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* ai = nullptr;
    std::string port = std::to_string(bmc.port);
    int rc = ::getaddrinfo(bmc.host.c_str(), port.c_str(), &hints, &ai);
    if (rc != 0) {
      return Status::Unavailable(
          fmt::format("cannot resolve BMC {}: {}", bmc.host, ::gai_strerror(rc)));
    }
    fd_ = ::socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    rc = fd_ < 0 ? -1 : ::connect(fd_, ai->ai_addr, ai->ai_addrlen);
    int err = errno;
    ::freeaddrinfo(ai);
    if (rc != 0) return Status::FromErrno(fmt::format("BMC {}", bmc.ToString()), err);
    return Status::Ok();
  }

  // Sends `packet` and waits for nothing.
  Status SendOnly(const Bytes& packet) {
    if (::send(fd_, packet.data(), packet.size(), 0) < 0) {
      return Status::FromErrno("send to BMC", errno);
    }
    return Status::Ok();
  }

  // Sends `packet` and returns the first reply `accept` takes (it returns
  // an empty string), waiting up to `timeout`. Replies it does not take
  // (late answers to earlier attempts, damaged or forged packets) are
  // dropped and counted in `*rejected` by the reason it gives, so that the
  // caller can say why no reply was taken (NoReply).
  template <typename Accept>
  Result<Bytes> Exchange(const Bytes& packet, std::chrono::milliseconds timeout, Accept accept,
                         Rejected* rejected) {
    if (::send(fd_, packet.data(), packet.size(), 0) < 0) {
      return Status::FromErrno("send to BMC", errno);
    }
    const Clock::time_point deadline = Clock::now() + timeout;
    char buf[2048];
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Status::Timeout("no reply");
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n <= 0) continue;
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got < 0) {
        // ECONNREFUSED: nothing listens there (ICMP port unreachable).
        if (errno == ECONNREFUSED) return Status::Unavailable("connection refused");
        continue;
      }
      Bytes reply(buf, static_cast<size_t>(got));
      const std::string why = accept(reply);
      if (why.empty()) return reply;
      spdlog::debug("BMC reply of {} bytes rejected: {}", reply.size(), why);
      ++(*rejected)[why];
    }
  }

 private:
  int fd_ = -1;
};

constexpr const char* kKinds[3] = {"an authentication", "an integrity", "a confidentiality"};

class Session {
 public:
  // A session at `privilege` (rmcp::kPrivilegeUser or kPrivilegeOperator).
  Session(const IpmiTarget& target, Datagrams* net, uint8_t privilege)
      : target_(target), net_(net), privilege_(privilege) {}

  std::string_view PrivilegeName() const {
    return privilege_ == rmcp::kPrivilegeUser ? "USER" : "OPERATOR";
  }

  // What a refused privilege means for this session's user.
  std::string NeedsPrivilege() const {
    return fmt::format(
        "the BMC user \"{}\" needs {} privilege to {}", target_.username, PrivilegeName(),
        privilege_ == rmcp::kPrivilegeUser ? "read the power state" : "control power");
  }

  std::string Where() const { return fmt::format("BMC {}", target_.bmc.ToString()); }

  // The error of a step that got no reply it could take after `attempts`.
  Status Failed(const Status& last, std::string_view step, const Rejected& rejected,
                int attempts) const {
    const std::string why =
        last.code() == base::Code::kTimeout ? NoReply(rejected) : std::string(last.message());
    return Status(last.code(),
                  fmt::format("{}: {}: {} after {}", Where(), step, why, Attempts(attempts)));
  }

  // Sends a pre-session packet, up to `attempts` times with backoff from
  // `timeout`; returns the reply.
  template <typename Accept>
  Result<Bytes> Send(const Bytes& packet, Accept accept, std::string_view step, int attempts,
                     std::chrono::milliseconds timeout) {
    Rejected rejected;
    for (int attempt = 0;; ++attempt) {
      Result<Bytes> reply = net_->Exchange(packet, timeout, accept, &rejected);
      if (reply.ok() || reply.status().code() != base::Code::kTimeout || attempt + 1 >= attempts) {
        if (!reply.ok()) return Failed(reply.status(), step, rejected, attempt + 1);
        return reply;
      }
      spdlog::debug("{}: {}: no reply within {} ms, trying again", Where(), step, timeout.count());
      timeout = std::min(timeout * 2, target_.timeout * 4);  // backoff, bounded
    }
  }

  // One handshake. A step whose reply is lost is sent again (SendStep), not
  // the whole handshake: the BMC keeps its state for the steps it answered.
  Status Open(rmcp::CipherSuite suite) {
    // The keys of an earlier attempt go; every other field is set below
    // before it is read.
    secrets_.Wipe();
    half_open_ = false;
    keys_sent_ = false;
    secrets_.suite = suite;
    Result<Bytes> kuid = rmcp::PasswordKey(target_.password.reveal());
    if (!kuid.ok()) return kuid.status();
    secrets_.kuid = std::move(*kuid);
    secrets_.username = target_.username;
    secrets_.role = static_cast<uint8_t>(rmcp::kNameOnlyLookup | privilege_);
    RAND_bytes(reinterpret_cast<unsigned char*>(&secrets_.console_id), 4);
    secrets_.console_id |= 1;  // never zero
    secrets_.console_random = Random(16);

    // Open Session: propose the suite's three algorithms.
    const bool sha256 = suite == rmcp::CipherSuite::kSuite17;
    const char algorithms[3] = {static_cast<char>(sha256 ? 0x03 : 0x01),  // RAKP-HMAC-SHA*
                                static_cast<char>(sha256 ? 0x04 : 0x01),  // HMAC-SHA*
                                0x01};                                    // AES-CBC-128
    Bytes open;
    open += '\0';  // message tag, set when sent
    open += static_cast<char>(privilege_);
    open += std::string(2, '\0');
    rmcp::AppendLe32(secrets_.console_id, &open);
    for (int kind = 0; kind < 3; ++kind) {
      open += Bytes(1, static_cast<char>(kind)) + Bytes("\x00\x00\x08", 3) + algorithms[kind] +
              Bytes(3, '\0');
    }
    Result<rmcp::Packet> reply =
        SendStep(rmcp::kOpenSessionRequest, open, rmcp::kOpenSessionResponse, "open session");
    if (!reply.ok()) return reply.status();
    const Bytes& r = reply->payload;
    if (r.size() < 2)
      return Status::Invalid(fmt::format("{}: short open session response", Where()));
    if (r[1] != 0) return OpenSessionRefused(static_cast<uint8_t>(r[1]));
    if (r.size() < 36)
      return Status::Invalid(fmt::format("{}: short open session response", Where()));
    secrets_.bmc_id = rmcp::ReadLe32(r, 8);
    half_open_ = true;  // until RAKP 4 is taken, or the BMC ends it
    // The BMC must take what was proposed, not algorithms of its choosing.
    for (int kind = 0; kind < 3; ++kind) {
      const char chosen = static_cast<char>(r[12 + 8 * kind + 4] & 0x3f);
      if (chosen != algorithms[kind]) {
        return Status::Invalid(fmt::format(
            "{}: open session: the BMC chose {} algorithm {:#04x}, not the {:#04x} proposed "
            "(cipher suite {})",
            Where(), kKinds[kind], static_cast<int>(chosen), static_cast<int>(algorithms[kind]),
            static_cast<int>(suite)));
      }
    }

    // RAKP 1 and 2: prove the BMC knows the password.
    Bytes rakp1 = Bytes("\x02\x00\x00\x00", 4);
    rmcp::AppendLe32(secrets_.bmc_id, &rakp1);
    rakp1 += secrets_.console_random;
    rakp1 += static_cast<char>(secrets_.role);
    rakp1 += std::string(2, '\0');
    rakp1 += static_cast<char>(secrets_.username.size());
    rakp1 += secrets_.username;
    reply = SendStep(rmcp::kRakp1, rakp1, rmcp::kRakp2, "RAKP 1");
    if (!reply.ok()) return reply.status();
    const Bytes& r2 = reply->payload;
    if (r2.size() >= 2 && r2[1] != 0) {
      half_open_ = false;  // a BMC that refuses ends the session itself
      return LoginRefused(static_cast<uint8_t>(r2[1]), "RAKP 2");
    }
    const size_t code_len = sha256 ? 32 : 20;
    if (r2.size() < 40 + code_len) return Status::Invalid(fmt::format("{}: short RAKP 2", Where()));
    secrets_.bmc_random = r2.substr(8, 16);
    secrets_.bmc_guid = r2.substr(24, 16);
    if (!rmcp::SameBytes(std::string_view(r2).substr(40, code_len),
                         rmcp::Rakp2AuthCode(secrets_))) {
      return Status::PermissionDenied(fmt::format(
          "{}: login as \"{}\" failed: the BMC's proof of the password did not match (wrong "
          "password?); not retried",
          Where(), target_.username));
    }
    rmcp::DeriveKeys(&secrets_);

    // RAKP 3 and 4: prove we know it, and check the BMC's session key.
    Bytes rakp3 = Bytes("\x03\x00\x00\x00", 4);
    rmcp::AppendLe32(secrets_.bmc_id, &rakp3);
    rakp3 += rmcp::Rakp3AuthCode(secrets_);
    keys_sent_ = true;  // from here the BMC may hold an active session
    reply = SendStep(rmcp::kRakp3, rakp3, rmcp::kRakp4, "RAKP 3", /*same_answer=*/true);
    if (!reply.ok()) return reply.status();
    const Bytes& r4 = reply->payload;
    if (r4.size() >= 2 && r4[1] != 0) {
      half_open_ = false;
      return LoginRefused(static_cast<uint8_t>(r4[1]), "RAKP 4");
    }
    const size_t icv_len = rmcp::IntegrityLength(suite);
    if (r4.size() < 8 + icv_len ||
        !rmcp::SameBytes(std::string_view(r4).substr(8, icv_len), rmcp::Rakp4Icv(secrets_))) {
      return Status::PermissionDenied(fmt::format("{}: RAKP 4 integrity check failed", Where()));
    }
    open_ = true;
    half_open_ = false;
    return Status::Ok();
  }

  // Sends an in-session request; a timeout resends it up to `retries` more
  // times (the target's own count when negative), with backoff.
  // A refusal is described by `texts` (the command's completion codes).
  Result<rmcp::IpmiResponse> Request(uint8_t netfn, uint8_t cmd, std::string_view data,
                                     std::string_view what, int retries = -1,
                                     std::string (*texts)(uint8_t) = rmcp::CompletionText) {
    if (retries < 0) retries = target_.retries;
    const uint8_t rq_seq = static_cast<uint8_t>(++rq_seq_ & 0x3f);
    std::chrono::milliseconds timeout = target_.timeout;
    Rejected rejected;
    for (int attempt = 0;; ++attempt) {
      Bytes packet =
          rmcp::EncodeSessionRequest(secrets_, ++sequence_, netfn, cmd, rq_seq, data, Random(16));
      rmcp::IpmiResponse response;
      Result<Bytes> reply = net_->Exchange(
          packet, timeout,
          [&](const Bytes& d) -> std::string {
            Result<rmcp::Packet> p = rmcp::DecodePacket(d, &secrets_);
            if (!p.ok()) return Refused(p.status());
            if (p->type != rmcp::kIpmiMessage) return "was not an IPMI message";
            // The BMC addresses replies in the session to our session id.
            if (p->session_id != secrets_.console_id) return "named another session";
            Result<rmcp::IpmiResponse> r = rmcp::DecodeIpmiResponse(p->payload);
            if (!r.ok()) return "had a bad IPMI checksum or length";
            if (r->rq_seq != rq_seq || r->cmd != cmd) return "answered an earlier request";
            response = std::move(*r);
            return {};
          },
          &rejected);
      if (reply.ok()) {
        if (response.completion != 0) {
          return Status::FailedPrecondition(
              fmt::format("{}: {} refused: {}", Where(), what, texts(response.completion)));
        }
        return response;
      }
      if (reply.status().code() != base::Code::kTimeout || attempt >= retries) {
        return Failed(reply.status(), what, rejected, attempt + 1);
      }
      timeout = std::min(timeout * 2, target_.timeout * 4);
    }
  }

  // Ends the session on every path, best effort. An established session
  // gets Close Session, sent twice at most: the BMC times idle sessions out
  // anyway, and a close resent after its reply was lost goes unanswered.
  // A handshake that did not finish is abandoned so that it does not hold
  // a slot of the BMC's session table until it times out: a session the
  // BMC may have activated (RAKP 3 was sent) gets Close Session; one still
  // half-open, or one that did not answer the close, gets RAKP 3 with an
  // error status, on which the BMC drops it (IPMI v2.0, 13.31).
  void Close() {
    if (open_) {
      open_ = false;
      Status closed = CloseSession(/*retries=*/1);
      if (!closed.ok()) spdlog::warn("{}", closed.message());
      return;
    }
    if (!half_open_) return;
    half_open_ = false;
    if (keys_sent_ && CloseSession(/*retries=*/0).ok()) return;
    // The status: the console found the exchange's integrity lacking. The
    // code that follows is zeros of the suite's length: some BMCs check it
    // before they read the status, and fail it.
    Bytes abort = Bytes(1, static_cast<char>(NextTag())) + Bytes("\x0f\x00\x00", 3);
    rmcp::AppendLe32(secrets_.bmc_id, &abort);
    abort += Bytes(secrets_.suite == rmcp::CipherSuite::kSuite17 ? 32 : 20, '\0');
    if (!net_->SendOnly(rmcp::EncodePreSession(rmcp::kRakp3, abort)).ok()) return;
    spdlog::debug("{}: abandoned the unfinished session {:#010x}", Where(), secrets_.bmc_id);
  }

  // True after a handshake that got past Open Session and did not finish.
  bool half_open() const { return half_open_; }

 private:
  Status CloseSession(int retries) {
    Bytes data;
    rmcp::AppendLe32(secrets_.bmc_id, &data);
    return Request(kNetFnApp, kCmdCloseSession, data, "close session", retries).status();
  }

  // Sends one handshake message until the BMC answers it: up to `retries`
  // more times after a timeout, with backoff. Every send gets a tag of its
  // own, so that a late reply to an earlier message (a refusal of another
  // cipher suite) is never taken for this one's. Only a reply to the latest
  // send is taken, as the BMC may have replaced its answer to an earlier
  // one (a new session, a new random number), unless `same_answer`: the BMC
  // answers every send alike (RAKP 4 depends only on the session's keys),
  // and may answer only the first, activating the session with it.
  Result<rmcp::Packet> SendStep(rmcp::PayloadType type, const Bytes& payload,
                                rmcp::PayloadType want, std::string_view step,
                                bool same_answer = false) {
    Bytes tagged(payload);
    std::string sent_tags;  // this step's, oldest first
    rmcp::Packet out;
    auto accept = [&](const Bytes& d) -> std::string {
      // Once the keys are derived, a BMC that activated the session with
      // an earlier RAKP 3 may answer a resent one inside the session,
      // authenticated and encrypted (ipmi_sim does): the keys read it.
      Result<rmcp::Packet> p = rmcp::DecodePacket(d, &secrets_);
      if (!p.ok()) return Refused(p.status());
      if (p->type != want || p->payload.size() < 2) return "was not the awaited message";
      if (same_answer ? sent_tags.find(p->payload[0]) == std::string::npos
                      : p->payload[0] != tagged[0]) {
        return "answered an earlier request";
      }
      // Ours when it names our console session id. An error may be just
      // tag and status, and then the tag alone decides.
      if (p->payload.size() >= 8) {
        if (rmcp::ReadLe32(p->payload, 4) != secrets_.console_id) return "named another session";
      } else if (p->payload[1] == 0) {
        return "was too short to name a session";
      }
      out = std::move(*p);
      return {};
    };
    std::chrono::milliseconds timeout = target_.timeout;
    Rejected rejected;
    for (int attempt = 0;; ++attempt) {
      tagged[0] = static_cast<char>(NextTag());
      sent_tags += tagged[0];
      Result<Bytes> reply =
          net_->Exchange(rmcp::EncodePreSession(type, tagged), timeout, accept, &rejected);
      if (reply.ok()) return out;
      if (reply.status().code() != base::Code::kTimeout || attempt >= target_.retries) {
        return Failed(reply.status(), step, rejected, attempt + 1);
      }
      spdlog::debug("{}: {}: no reply within {} ms, sending it again", Where(), step,
                    timeout.count());
      timeout = std::min(timeout * 2, target_.timeout * 4);  // backoff, bounded
    }
  }

  Status OpenSessionRefused(uint8_t code) {
    return Status((code >= 0x04 && code <= 0x07) || code == 0x10 || code == 0x11
                      ? base::Code::kFailedPrecondition
                      : base::Code::kUnavailable,
                  fmt::format("{}: open session refused: {} (cipher suite {})", Where(),
                              rmcp::StatusCodeText(code), static_cast<int>(secrets_.suite)));
  }

  Status LoginRefused(uint8_t code, std::string_view step) {
    // 0x09, 0x0A: the role asked for is above what the user may have.
    const std::string hint = code == 0x09 || code == 0x0A ? " (" + NeedsPrivilege() + ")" : "";
    return Status::PermissionDenied(
        fmt::format("{}: login as \"{}\" refused in {}: {}{}; not retried", Where(),
                    target_.username, step, rmcp::StatusCodeText(code), hint));
  }

  // Message tags run 1..255 over the session's handshakes.
  uint8_t NextTag() {
    tag_ = static_cast<uint8_t>(tag_ == 255 ? 1 : tag_ + 1);
    return tag_;
  }

  const IpmiTarget& target_;
  Datagrams* net_;
  const uint8_t privilege_;
  rmcp::SessionSecrets secrets_;
  uint8_t tag_ = 0;
  uint32_t sequence_ = 0;
  uint8_t rq_seq_ = 0;
  bool open_ = false;
  // Set by a handshake that did not finish: the BMC holds a session for it
  // (after Open Session), which it may have activated (after RAKP 3).
  bool half_open_ = false;
  bool keys_sent_ = false;
};

// Gets the channel's authentication capabilities: a liveness and sanity
// check of the BMC before any session, as the mature tools do.
Status CheckChannel(const IpmiTarget& target, Session* session) {
  // Channel 0x0E (this one) with the IPMI v2.0 bit; operator privilege.
  Bytes request =
      rmcp::EncodeV15Request(kNetFnApp, kCmdGetChannelAuthCaps, 0, Bytes("\x8e\x03", 2));
  Result<Bytes> reply = session->Send(
      request,
      [](const Bytes& d) -> std::string {
        Result<rmcp::IpmiResponse> r = rmcp::DecodeV15Response(d);
        return r.ok() ? std::string() : Refused(r.status());
      },
      "get channel authentication capabilities", target.retries + 1, target.timeout);
  if (!reply.ok()) return reply.status();
  Result<rmcp::IpmiResponse> r = rmcp::DecodeV15Response(*reply);
  if (r->completion != 0 || r->data.size() < 3) {
    return Status::Unavailable(fmt::format("BMC {}: channel authentication capabilities: {}",
                                           target.bmc.ToString(),
                                           rmcp::CompletionText(r->completion)));
  }
  if ((static_cast<uint8_t>(r->data[1]) & 0x80) == 0) {
    return Status::FailedPrecondition(
        fmt::format("BMC {} does not support IPMI v2.0 (RMCP+)", target.bmc.ToString()));
  }
  return Status::Ok();
}

// Runs `command` inside a session at `privilege`, holding the BMC's gate
// throughout. Reading the power state needs USER, changing it OPERATOR: a
// read-only account can read it.
template <typename Command>
Status WithSession(const IpmiTarget& target, uint8_t privilege, Command command, int* suite_used) {
  BmcGate& gate = GateFor(target.bmc);
  std::lock_guard<std::mutex> lock(gate.mu);
  std::this_thread::sleep_until(gate.last_command + target.min_interval);
  struct Stamp {
    BmcGate& g;
    ~Stamp() { g.last_command = Clock::now(); }
  } stamp{gate};

  Datagrams net;
  SB_RETURN_IF_ERROR(net.Open(target.bmc));
  Session session(target, &net, privilege);
  SB_RETURN_IF_ERROR(CheckChannel(target, &session));
  std::vector<rmcp::CipherSuite> suites;
  if (target.suite != config::IpmiCipherSuite::kSuite3)
    suites.push_back(rmcp::CipherSuite::kSuite17);
  if (target.suite != config::IpmiCipherSuite::kSuite17)
    suites.push_back(rmcp::CipherSuite::kSuite3);
  Status opened;
  for (rmcp::CipherSuite suite : suites) {
    opened = session.Open(suite);
    // A BMC may ignore a RAKP message it has already answered, so a RAKP
    // step whose every reply was lost gets one fresh handshake.
    if (opened.code() == base::Code::kTimeout && session.half_open()) {
      spdlog::debug("{}; starting the handshake over", opened.message());
      session.Close();
      opened = session.Open(suite);
    }
    if (opened.ok()) {
      *suite_used = static_cast<int>(suite);
      break;
    }
    session.Close();  // what the handshake left half-open
    // Only an algorithm the BMC lacks moves on to the next suite.
    if (opened.code() != base::Code::kFailedPrecondition) return opened;
    spdlog::debug("{}; trying the next cipher suite", opened.message());
  }
  if (!opened.ok()) return opened;
  Status result =
      session
          .Request(kNetFnApp, kCmdSetSessionPrivilege, Bytes(1, static_cast<char>(privilege)),
                   fmt::format("set session privilege to {}", session.PrivilegeName()), -1,
                   rmcp::SetPrivilegeText)
          .status();
  if (result.code() == base::Code::kFailedPrecondition) {
    result =
        Status::PermissionDenied(fmt::format("{}; {}", result.message(), session.NeedsPrivilege()));
  }
  if (result.ok()) result = command(session);
  session.Close();
  return result;
}

}  // namespace

Result<ChassisStatus> GetChassisStatus(const IpmiTarget& target) {
  ChassisStatus status;
  Status s = WithSession(
      target, rmcp::kPrivilegeUser,
      [&](Session& session) {
        Result<rmcp::IpmiResponse> r =
            session.Request(kNetFnChassis, kCmdGetChassisStatus, {}, "get chassis status");
        if (!r.ok()) return r.status();
        if (r->data.empty()) {
          return Status::Invalid(fmt::format("{}: empty chassis status", session.Where()));
        }
        status.power_on = (static_cast<uint8_t>(r->data[0]) & 0x01) != 0;
        return Status::Ok();
      },
      &status.cipher_suite);
  if (!s.ok()) return s;
  return status;
}

Status ChassisControl(const IpmiTarget& target, ChassisAction action) {
  int suite = 0;
  return WithSession(
      target, rmcp::kPrivilegeOperator,
      [&](Session& session) {
        return session
            .Request(kNetFnChassis, kCmdChassisControl, Bytes(1, static_cast<char>(action)),
                     "chassis control")
            .status();
      },
      &suite);
}

}  // namespace sb::power
