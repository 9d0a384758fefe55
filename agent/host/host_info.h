// Who a host is: hostname, kernel, uptime, and the identifiers that tell the
// controller it reached the right machine (host id) in a new boot (boot id).
// Read under a proc root and an etc root for tests. Thread-safe.

#ifndef AGENT_HOST_HOST_INFO_H_
#define AGENT_HOST_HOST_INFO_H_

#include <string>

namespace sb::host {

struct HostInfo {
  std::string hostname;
  std::string kernel;  // "Linux 6.1.0-13-amd64 #1 SMP ..."
  double uptime_s = 0;
  std::string host_id;  // /etc/machine-id
  std::string boot_id;  // /proc/sys/kernel/random/boot_id
};

HostInfo ReadHostInfo(const std::string& proc_root = "/proc", const std::string& etc_root = "/etc");

}  // namespace sb::host

#endif  // AGENT_HOST_HOST_INFO_H_
