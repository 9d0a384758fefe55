// TLS for the controller-agent channel: contexts that allow TLS 1.3 only and
// always authenticate both ends against one CA, and the role check that lets
// only a controller's certificate open an agent.
//
// Roles are carried in the certificate subject's organizational unit
// (kControllerRoleOu, kAgentRoleOu) and in its extended key usage
// (clientAuth for controllers, serverAuth for agents); `standbyctl pki`
// issues both. A TlsContext is immutable once made and may be shared by
// threads; each connection gets its own SSL object.

#ifndef AGENT_NET_TLS_H_
#define AGENT_NET_TLS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/base/status.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace sb::net {

inline constexpr const char* kControllerRoleOu = "standbyctl-controller";
inline constexpr const char* kAgentRoleOu = "standbyctl-agent";

enum class PeerRole { kController, kAgent };

struct TlsFiles {
  std::string ca = "/etc/standbyctl/pki/ca.crt";  // PEM CA that both ends chain to
  std::string cert;                               // this end's certificate (PEM)
  std::string key;                                // this end's private key (PEM)
};

class TlsContext {
 public:
  // A server context that demands a client certificate chaining to the CA.
  static base::Result<TlsContext> ForServer(const TlsFiles& files);
  // A client context that verifies the server against the CA.
  static base::Result<TlsContext> ForClient(const TlsFiles& files);

  SSL_CTX* get() const { return ctx_.get(); }

 private:
  explicit TlsContext(std::shared_ptr<SSL_CTX> ctx) : ctx_(std::move(ctx)) {}
  std::shared_ptr<SSL_CTX> ctx_;
};

// After a handshake: checks that the peer's certificate carries `role`.
base::Status CheckPeerRole(SSL* ssl, PeerRole role);

// The peer certificate's subject as "CN=...,OU=...", or "(no certificate)".
std::string PeerSubject(SSL* ssl);

// When the peer's certificate expires (its notAfter, ms since the epoch);
// none without a certificate.
std::optional<int64_t> PeerCertificateNotAfterMs(SSL* ssl);

// The same for the first certificate of a PEM file; errors name the file.
base::Result<int64_t> CertificateFileNotAfterMs(const std::string& path);

// The oldest OpenSSL error queued on this thread, as text, and the queue
// cleared; `fallback` when the queue is empty.
std::string TakeOpenSslError(const char* fallback);

}  // namespace sb::net

#endif  // AGENT_NET_TLS_H_
