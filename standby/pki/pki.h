// A small certificate authority for the controller-agent channel, so that a
// user never has to type an openssl command.
//
// InitCa makes a CA key and self-signed certificate in a directory; Issue
// makes a key and a certificate for a controller or an agent, signed by that
// CA. Keys are ECDSA P-256; every file is written with mode 0600 and never
// overwritten. The role goes into the subject's OU and the extended key usage
// (see agent/net/tls.h); an agent's name also goes into its subjectAltName,
// which the controller checks. Functions; thread-safe.

#ifndef STANDBY_PKI_PKI_H_
#define STANDBY_PKI_PKI_H_

#include <chrono>
#include <string>

#include "agent/base/status.h"
#include "agent/net/tls.h"

namespace sb::pki {

struct IssuedFiles {
  std::string cert;
  std::string key;
};

struct IssueOptions {
  net::PeerRole role = net::PeerRole::kAgent;
  std::string name;  // CN; for agents also DNS or IP subjectAltName
  int days = 730;
  // Shifts the validity window back in time; tests use it to make expired
  // certificates.
  std::chrono::seconds backdate{0};
};

// Creates DIR (mode 0700) with ca.crt and ca.key. Fails if either exists.
base::Result<IssuedFiles> InitCa(const std::string& dir, int days = 3650);

// Issues DIR/NAME.crt and DIR/NAME.key signed by DIR/ca.{crt,key}.
base::Result<IssuedFiles> Issue(const std::string& dir, const IssueOptions& options);

struct RenewedFiles {
  IssuedFiles files;  // the new pair, where the old one was
  IssuedFiles old;    // the old pair, kept as NAME.crt.old and NAME.key.old
  net::PeerRole role = net::PeerRole::kAgent;
};

// Renews DIR/NAME.crt: a new key and certificate with the same name and
// role, valid `days` from now, in place of the old pair, which is kept as
// NAME.{crt,key}.old (replacing an earlier .old). kInvalidArgument when
// there is no such certificate or it is not one of the channel's.
base::Result<RenewedFiles> Renew(const std::string& dir, const std::string& name, int days);

}  // namespace sb::pki

#endif  // STANDBY_PKI_PKI_H_
