#include "agent/net/tls.h"

#include <ctime>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

namespace sb::net {
namespace {

base::Result<std::shared_ptr<SSL_CTX>> NewContext(const TlsFiles& files, bool server) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()),
                               SSL_CTX_free);
  if (!ctx) return base::Status::Internal(TakeOpenSslError("SSL_CTX_new failed"));
  // TLS 1.3 only: no fallback, no renegotiation, forward secrecy always.
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  // Read many records per system call on bulk transfers.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  SSL_CTX_set_default_read_buffer_len(ctx.get(), size_t{256} * 1024);
  // AES-128-GCM first: as strong as the link needs, and the fastest with AES-NI.
  SSL_CTX_set_ciphersuites(ctx.get(),
                           "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                           "TLS_CHACHA20_POLY1305_SHA256");
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1) {
    return base::Status::Invalid(
        fmt::format("cannot load CA certificate {}: {}", files.ca, TakeOpenSslError("unreadable")));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1) {
    return base::Status::Invalid(
        fmt::format("cannot load certificate {}: {}", files.cert, TakeOpenSslError("unreadable")));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return base::Status::Invalid(
        fmt::format("cannot load private key {}: {}", files.key, TakeOpenSslError("unreadable")));
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return base::Status::Invalid(
        fmt::format("private key {} does not match certificate {}", files.key, files.cert));
  }
  int mode = SSL_VERIFY_PEER;
  if (server) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  SSL_CTX_set_verify_depth(ctx.get(), 4);
  return ctx;
}

}  // namespace

base::Result<TlsContext> TlsContext::ForServer(const TlsFiles& files) {
  base::Result<std::shared_ptr<SSL_CTX>> ctx = NewContext(files, true);
  if (!ctx.ok()) return ctx.status();
  return TlsContext(*ctx);
}

base::Result<TlsContext> TlsContext::ForClient(const TlsFiles& files) {
  base::Result<std::shared_ptr<SSL_CTX>> ctx = NewContext(files, false);
  if (!ctx.ok()) return ctx.status();
  return TlsContext(*ctx);
}

base::Status CheckPeerRole(SSL* ssl, PeerRole role) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return base::Status::PermissionDenied("peer sent no certificate");
  const char* want = role == PeerRole::kController ? kControllerRoleOu : kAgentRoleOu;
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, -1);
  std::string have;
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    have.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                static_cast<size_t>(ASN1_STRING_length(data)));
  }
  if (have != want) {
    return base::Status::PermissionDenied(
        fmt::format("certificate {} has role \"{}\", not \"{}\"", PeerSubject(ssl), have, want));
  }
  return base::Status::Ok();
}

std::string PeerSubject(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return "(no certificate)";
  char buf[512];
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  int n = BIO_read(bio, buf, sizeof buf - 1);
  BIO_free(bio);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

namespace {

std::optional<int64_t> NotAfterMs(const X509* cert) {
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  std::tm tm{};
  if (not_after == nullptr || ASN1_TIME_to_tm(not_after, &tm) != 1) return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm)) * 1000;
}

}  // namespace

std::optional<int64_t> PeerCertificateNotAfterMs(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  return NotAfterMs(cert);
}

base::Result<int64_t> CertificateFileNotAfterMs(const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  if (!bio) {
    return base::Status::NotFound(
        fmt::format("cannot read certificate {}: {}", path, TakeOpenSslError("cannot open")));
  }
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert) {
    return base::Status::Invalid(fmt::format("{}: not a PEM certificate", path));
  }
  std::optional<int64_t> ms = NotAfterMs(cert.get());
  if (!ms) return base::Status::Invalid(fmt::format("{}: unreadable notAfter time", path));
  return *ms;
}

std::string TakeOpenSslError(const char* fallback) {
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  if (err == 0) return fallback;
  const char* reason = ERR_reason_error_string(err);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", err);
}

}  // namespace sb::net
