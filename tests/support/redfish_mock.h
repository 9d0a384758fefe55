// Test support: tests/support/redfish_mock.py, a minimal Redfish service
// over HTTPS on 127.0.0.1 with a certificate from the test's own CA,
// stopped by its pid. See the script for what it serves.

#ifndef TESTS_SUPPORT_REDFISH_MOCK_H_
#define TESTS_SUPPORT_REDFISH_MOCK_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/support/background_process.h"
#include "tests/support/service_pki.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

class RedfishMock {
 public:
  static constexpr const char* kUser = "admin";
  static constexpr const char* kPassword = "s3cret-redfish";

  struct Options {
    std::string state = "Off";
    std::string system_id = "1";
    int power_delay_ms = 0;
    int busy = 0;  // the first requests answered 503
    bool task = false;
    bool no_sessions = false;
    bool action_info = false;
    bool odd_shapes = false;  // Links and Actions as strings
    std::string reset_types;  // empty: the mock's default list
    std::string on_command, off_command;
    std::string host_pidfile;  // see redfish_mock.py
  };

  // Issues a certificate for "localhost" and 127.0.0.1 from a CA of its
  // own under `dir`, and starts the service. Throws when it does not start.
  RedfishMock(const TempDir& dir, const Options& options);
  explicit RedfishMock(const TempDir& dir) : RedfishMock(dir, Options{}) {}
  ~RedfishMock();  // stops the service, and the host its pid file names, by pid

  int port() const { return port_; }
  const std::string& ca() const { return pki_.ca(); }
  const std::string& cert() const { return leaf_.cert; }
  // The requests so far, one line each: METHOD PATH AUTH STATUS.
  std::vector<std::string> Requests() const;

 private:
  ServicePki pki_;
  ServicePki::Leaf leaf_;
  std::string log_;
  std::string host_pidfile_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_REDFISH_MOCK_H_
