#include "tests/support/redfish_mock.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>

namespace sb::testing {

RedfishMock::RedfishMock(const TempDir& dir, const Options& options)
    : pki_(dir, "redfish-ca"),
      leaf_(pki_.Issue("redfish-bmc", {"localhost", "IP:127.0.0.1"}, 30)),
      log_(dir.Sub("redfish-requests.log")) {
  port_ = FreePort();
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   std::string(SOURCE_DIR) + "/tests/support/redfish_mock.py",
                                   "--port=" + std::to_string(port_),
                                   "--cert=" + leaf_.cert,
                                   "--key=" + leaf_.key,
                                   "--log=" + log_,
                                   "--state=" + options.state,
                                   "--system-id=" + options.system_id,
                                   "--power-delay-ms=" + std::to_string(options.power_delay_ms),
                                   "--busy=" + std::to_string(options.busy)};
  if (options.task) argv.push_back("--task");
  if (options.no_sessions) argv.push_back("--no-sessions");
  if (options.action_info) argv.push_back("--action-info");
  if (options.odd_shapes) argv.push_back("--odd-shapes");
  if (!options.reset_types.empty()) argv.push_back("--reset-types=" + options.reset_types);
  if (!options.on_command.empty()) argv.push_back("--on-command=" + options.on_command);
  if (!options.off_command.empty()) argv.push_back("--off-command=" + options.off_command);
  if (!options.host_pidfile.empty()) argv.push_back("--host-pidfile=" + options.host_pidfile);
  host_pidfile_ = options.host_pidfile;
  process_ = std::make_unique<BackgroundProcess>(argv, dir.Sub("redfish-mock.log"));
  if (!WaitForPort("127.0.0.1", port_)) {
    throw std::runtime_error("redfish mock did not start: " +
                             ReadWholeFile(dir.Sub("redfish-mock.log")));
  }
}

RedfishMock::~RedfishMock() {
  process_.reset();  // the service first, so that it starts nothing more
  if (host_pidfile_.empty()) return;
  std::ifstream in(host_pidfile_);
  int pid = 0;
  if (in >> pid && pid > 0) ::kill(pid, SIGKILL);
}

std::vector<std::string> RedfishMock::Requests() const {
  std::vector<std::string> lines;
  std::ifstream in(log_);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace sb::testing
