// Test support: a real authoritative DNS server (Debian's nsd) for one zone
// on a loopback address and port of the test's choosing, stopped by its pid.

#ifndef TESTS_SUPPORT_DNS_SERVER_H_
#define TESTS_SUPPORT_DNS_SERVER_H_

#include <memory>
#include <string>

#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

class DnsServer {
 public:
  // Serves `zone` (a name such as "example.test") from the zone file text
  // `records` (written after an $ORIGIN line) on `address`:a free port.
  // Throws when nsd does not start.
  DnsServer(const TempDir& dir, const std::string& address, const std::string& zone,
            const std::string& records);

  const std::string& address() const { return address_; }
  int port() const { return port_; }
  std::string endpoint() const { return address_ + ":" + std::to_string(port_); }

 private:
  std::string address_;
  int port_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_DNS_SERVER_H_
