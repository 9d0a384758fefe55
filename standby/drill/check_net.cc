// The tcp and tls checks: a connection as a client makes it, over OpenSSL
// for TLS. The handshake does not stop at a certificate it does not trust:
// the check finishes it, then says what is wrong with the certificate (not
// trusted and why, the names it is for, when it expires), which a refused
// handshake would hide.

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>

#include <fmt/format.h>
#include <re2/re2.h>

#include "agent/base/endpoint.h"
#include "agent/base/units.h"
#include "agent/net/tls_stream.h"
#include "standby/drill/check_kinds.h"
#include "standby/drill/checks.h"

namespace sb::drill::internal {
namespace {

using net::Deadline;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};

// A connected socket, closed when it goes.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

bool IsAddress(const std::string& host) {
  in6_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// A finished TLS handshake; the peer's certificate is not yet judged.
struct TlsSession {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  std::unique_ptr<SSL, SslFree> ssl;
};

// Runs a client handshake on `fd`, sending `sni` (unless empty or an
// address) and accepting nothing below `min_version`. The chain is
// verified against `ca_file` (or the system's store), but a failure is left
// for TrustProblem to tell. A refused version is kPermissionDenied.
base::Result<TlsSession> Handshake(int fd, const std::string& sni, const std::string& ca_file,
                                   const std::string& min_version, Deadline deadline) {
  ERR_clear_error();
  TlsSession t;
  t.ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!t.ctx) return base::Status::Internal("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(t.ctx.get(),
                                min_version == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  const int loaded = ca_file.empty()
                         ? SSL_CTX_set_default_verify_paths(t.ctx.get())
                         : SSL_CTX_load_verify_locations(t.ctx.get(), ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return base::Status::Invalid(fmt::format("cannot load the CA {}: {}",
                                             ca_file.empty() ? "store" : ca_file, OpenSslErrors()));
  }
  SSL_CTX_set_verify(t.ctx.get(), SSL_VERIFY_NONE, nullptr);
  t.ssl.reset(SSL_new(t.ctx.get()));
  if (!t.ssl) return base::Status::Internal("SSL_new: " + OpenSslErrors());
  if (!sni.empty() && !IsAddress(sni)) SSL_set_tlsext_host_name(t.ssl.get(), sni.c_str());
  SSL_set_fd(t.ssl.get(), fd);
  for (;;) {
    const int rc = SSL_connect(t.ssl.get());
    if (rc == 1) return t;
    const int err = SSL_get_error(t.ssl.get(), rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (!net::WaitFor(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return base::Status::Timeout("the TLS handshake timed out");
      }
      continue;
    }
    const unsigned long first = ERR_peek_error();
    std::string why = OpenSslErrors();
    if (why.empty()) why = err == SSL_ERROR_SYSCALL ? "the connection was closed" : "failed";
    const int reason = ERR_GET_REASON(first);
    if (reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_UNSUPPORTED_PROTOCOL ||
        reason == SSL_R_WRONG_VERSION_NUMBER) {
      return base::Status::PermissionDenied(fmt::format(
          "TLS handshake refused: no common version at or above {} ({})", min_version, why));
    }
    return base::Status::Unavailable("TLS handshake: " + why);
  }
}

// The DNS names and addresses the certificate is for.
std::vector<std::string> CertNames(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* s = n->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      const int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      ::inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof text);
      names.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(sans);
  return names;
}

bool CertValidFor(X509* cert, const std::string& name) {
  if (IsAddress(name)) return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  return X509_check_host(cert, name.c_str(), name.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                         nullptr) == 1;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Why the peer's certificate must not be trusted for `names`; empty when
// it may.
std::string TrustProblem(SSL* ssl, X509* cert, const std::vector<std::string>& names) {
  if (cert == nullptr) return "the server sent no certificate";
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    return fmt::format("its certificate is not trusted: {}", X509_verify_cert_error_string(verify));
  }
  for (const std::string& name : names) {
    if (!CertValidFor(cert, name)) {
      return fmt::format("its certificate is not valid for {} (it is for {})", name,
                         Joined(CertNames(cert)));
    }
  }
  return {};
}

int64_t NotAfterWallMs(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(::timegm(&tm)) * 1000;
}

std::string Utc(int64_t wall_ms) {
  const std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

base::Result<base::Endpoint> Address(const std::string& text, const CheckTarget& target) {
  const std::string address = WithHost(text, target.host);
  base::Result<base::Endpoint> ep = base::ParseEndpoint(address, 0);
  if (!ep.ok()) return ep.status();
  if (ep->port == 0) return base::Status::Invalid(fmt::format("{} has no port", address));
  return ep;
}

// Reads until `pattern` matches what came, the peer closes, 4 KiB came or
// the deadline passes. Returns what was read.
std::string ReadBanner(int fd, SSL* ssl, const RE2& pattern, Deadline deadline) {
  std::string got;
  char buf[1024];
  while (got.size() < 4096 && !RE2::PartialMatch(got, pattern)) {
    const int n = ssl != nullptr ? SSL_read(ssl, buf, sizeof buf)
                                 : static_cast<int>(::read(fd, buf, sizeof buf));
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    bool again = ssl != nullptr ? SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ
                                : n < 0 && (errno == EAGAIN || errno == EINTR);
    if (!again || !net::WaitFor(fd, POLLIN, deadline)) break;
  }
  return got;
}

base::Status WriteAll(int fd, SSL* ssl, std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    const int n = ssl != nullptr ? SSL_write(ssl, data.data(), static_cast<int>(data.size()))
                                 : static_cast<int>(::write(fd, data.data(), data.size()));
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    const bool want_write = ssl != nullptr ? SSL_get_error(ssl, n) == SSL_ERROR_WANT_WRITE
                                           : n < 0 && (errno == EAGAIN || errno == EINTR);
    const bool want_read = ssl != nullptr && SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ;
    if ((!want_write && !want_read) || !net::WaitFor(fd, want_read ? POLLIN : POLLOUT, deadline)) {
      return base::Status::Unavailable("sending failed: the connection was closed or timed out");
    }
  }
  return base::Status::Ok();
}

std::string Printable(std::string s) {
  if (s.size() > 80) s = s.substr(0, 80) + "...";
  for (char& c : s) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '.';
  }
  return "\"" + s + "\"";
}

}  // namespace

CheckRun RunTcpCheck(const config::SmokeCheck& check, const CheckTarget& target) {
  CheckRecorder rec(check);
  const config::TcpCheck& c = check.tcp;
  base::Result<base::Endpoint> ep = Address(c.address, target);
  if (!ep.ok()) return rec.NotRun(ep.status());
  const Deadline deadline = net::After(check.timeout);
  const auto start = net::Clock::now();
  base::Result<int> fd = net::ConnectTcp(*ep, deadline);
  if (!fd.ok()) return rec.NotRun(fd.status());
  Socket socket(*fd);
  auto ms_since = [&](net::Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(net::Clock::now() - t).count();
  };
  rec.measured()["connect_ms"] = ms_since(start);
  TlsSession tls;
  std::string secured;
  if (c.tls) {
    const std::string name = c.host_name.empty() ? ep->host : c.host_name;
    base::Result<TlsSession> t = Handshake(socket.fd(), name, c.ca_file, "TLSv1.2", deadline);
    if (!t.ok()) return rec.NotRun(t.status().WithContext(ep->ToString()));
    tls = std::move(*t);
    X509* cert = SSL_get0_peer_certificate(tls.ssl.get());
    const std::string problem = TrustProblem(tls.ssl.get(), cert, {name});
    if (!problem.empty()) return rec.Fail(fmt::format("{}: {}", ep->ToString(), problem), true);
    rec.measured()["tls_ms"] = ms_since(start);
    secured = fmt::format(" over {}", SSL_get_version(tls.ssl.get()));
  }
  if (!c.send.empty()) {
    base::Status sent = WriteAll(socket.fd(), tls.ssl.get(), c.send, deadline);
    if (!sent.ok()) return rec.NotRun(sent.WithContext(ep->ToString()));
  }
  if (!c.expect_regex.empty()) {
    RE2 pattern(c.expect_regex, RE2::Quiet);
    const std::string got = ReadBanner(socket.fd(), tls.ssl.get(), pattern, deadline);
    rec.measured()["banner"] = got.substr(0, 200);
    if (!RE2::PartialMatch(got, pattern)) {
      return rec.Fail(fmt::format("{}: connected{} but what it sent does not match /{}/: {}",
                                  ep->ToString(), secured, c.expect_regex,
                                  got.empty() ? "nothing" : Printable(got)));
    }
  }
  return rec.Pass(fmt::format("{}: connected{}{} in {:.0f} ms", ep->ToString(), secured,
                              c.expect_regex.empty() ? "" : ", banner as expected",
                              ms_since(start)));
}

CheckRun RunTlsCheck(const config::SmokeCheck& check, const CheckTarget& target) {
  CheckRecorder rec(check);
  const config::TlsCheck& c = check.tls;
  base::Result<base::Endpoint> ep = Address(c.address, target);
  if (!ep.ok()) return rec.NotRun(ep.status());
  const Deadline deadline = net::After(check.timeout);
  base::Result<int> fd = net::ConnectTcp(*ep, deadline);
  if (!fd.ok()) return rec.NotRun(fd.status());
  Socket socket(*fd);
  const std::string sni = c.names.empty() ? ep->host : c.names.front();
  base::Result<TlsSession> t = Handshake(socket.fd(), sni, c.ca_file, c.min_version, deadline);
  if (!t.ok()) return rec.NotRun(t.status().WithContext(ep->ToString()));
  SSL* ssl = t->ssl.get();
  X509* cert = SSL_get0_peer_certificate(ssl);
  const std::string where = fmt::format("{} (SNI {})", ep->ToString(), sni);
  if (cert == nullptr) return rec.Fail(where + ": the server sent no certificate", true);
  const int64_t not_after = NotAfterWallMs(cert);
  const int64_t now = NowWallMs(target);
  const double days_left = static_cast<double>(not_after - now) / 86'400'000.0;
  rec.measured() = {{"not_after_wall_ms", not_after},
                    {"days_left", days_left},
                    {"version", SSL_get_version(ssl)},
                    {"names", CertNames(cert)}};
  const std::string problem = TrustProblem(ssl, cert, c.names);
  if (!problem.empty()) return rec.Fail(fmt::format("{}: {}", where, problem), true);
  if (days_left < c.min_days) {
    return rec.Fail(
        fmt::format("{}: its certificate expires {} ({}), within min_days {}", where,
                    Utc(not_after),
                    days_left < 0 ? "already expired" : fmt::format("in {:.1f} days", days_left),
                    c.min_days),
        true);
  }
  return rec.Pass(fmt::format("{}: {}, certificate trusted for {}, expires {} (in {:.0f} days)",
                              where, SSL_get_version(ssl), Joined(c.names), Utc(not_after),
                              days_left));
}

}  // namespace sb::drill::internal
