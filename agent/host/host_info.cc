#include "agent/host/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

namespace sb::host {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

HostInfo ReadHostInfo(const std::string& proc_root, const std::string& etc_root) {
  HostInfo info;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) info.hostname = name;
  utsname u{};
  if (::uname(&u) == 0) info.kernel = std::string(u.sysname) + " " + u.release + " " + u.version;
  std::ifstream(proc_root + "/uptime") >> info.uptime_s;
  info.host_id = FirstLine(etc_root + "/machine-id");
  info.boot_id = FirstLine(proc_root + "/sys/kernel/random/boot_id");
  return info;
}

}  // namespace sb::host
