// Test support: OpenIPMI's ipmi_sim as a real BMC on 127.0.0.1, with a user
// "admin" (and "reader", of USER privilege) and a chassis_control script that starts a process (the
// "host") on power on, stops it on power off, and reports power from its pid file. The host is
// `sleep 3600` unless the test gives a shell command line, such as a standby-agent whose shutdown
// command ends it.

#ifndef TESTS_SUPPORT_IPMI_SIM_H_
#define TESTS_SUPPORT_IPMI_SIM_H_

#include <memory>
#include <string>

#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

class IpmiSim {
 public:
  static constexpr const char* kUser = "admin";
  static constexpr const char* kPassword = "s3cret-bmc";
  // A second user whose privilege is USER: it may read, not change, power.
  static constexpr const char* kReader = "reader";
  static constexpr const char* kReaderPassword = "r3ad-only";

  // Starts ipmi_sim and waits until it answers. The host's output goes to
  // dir()/host.log.
  explicit IpmiSim(const std::string& host_command = "sleep 3600");
  ~IpmiSim();  // stops it and the chassis process, by pid

  int port() const { return port_; }
  // The pid of the "host" process while the chassis is on, or 0.
  int HostPid() const;
  // Lines the chassis_control script was called with.
  // The host's output so far.
  std::string HostLog() const;
  std::string Calls() const;
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<BackgroundProcess> sim_;
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_IPMI_SIM_H_
