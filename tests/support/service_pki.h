// Test support: a certificate authority of the test's own for the services
// that smoke checks reach (web servers, TLS ports), apart from the PKI of
// the controller-agent channel. Made with the openssl command line, as an
// operator's private CA would be.

#ifndef TESTS_SUPPORT_SERVICE_PKI_H_
#define TESTS_SUPPORT_SERVICE_PKI_H_

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sb::testing {

class ServicePki {
 public:
  // Makes `dir`/`name`/ca.crt and ca.key (EC P-256, 30 days). Throws when
  // openssl fails.
  ServicePki(const TempDir& dir, const std::string& name);

  struct Leaf {
    std::string cert, key;
  };
  // A server certificate for `dns_names` (the first is the CN; "IP:1.2.3.4"
  // names an address), valid from
  // now for `days`, signed by this CA.
  Leaf Issue(const std::string& file_name, const std::vector<std::string>& dns_names,
             int days) const;
  // A client certificate for `name`.
  Leaf IssueClient(const std::string& file_name, const std::string& name) const;

  const std::string& ca() const { return ca_; }

 private:
  Leaf Make(const std::string& file_name, const std::string& cn, const std::string& extensions,
            int days) const;

  std::string dir_, ca_, ca_key_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_SERVICE_PKI_H_
