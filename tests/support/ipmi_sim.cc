#include "tests/support/ipmi_sim.h"

#include <signal.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "agent/base/subprocess.h"

namespace sb::testing {

IpmiSim::IpmiSim(const std::string& host_command) {
  port_ = FreePort();
  const std::string d = dir_.path();
  // ipmi_sim calls: SCRIPT MC get power | set power 0/1 | set shutdown 1
  dir_.Write("chassis.sh",
             "#!/bin/sh\n"
             "echo \"$*\" >> " +
                 d +
                 "/calls.log\n"
                 "pidfile=" +
                 d +
                 "/host.pid\n"
                 "alive() { [ -f $pidfile ] && kill -0 $(cat $pidfile) 2>/dev/null; }\n"
                 "mc=$1; op=$2; shift 2\n"
                 "case $op in\n"
                 "get) if alive; then echo power:1; else echo power:0; fi ;;\n"
                 "set) case \"$1 $2\" in\n"
                 "  'power 1') alive || { setsid " +
                 host_command + " </dev/null >>" + d +
                 "/host.log 2>&1 & echo $! > "
                 "$pidfile; } ;;\n"
                 "  'power 0'|'shutdown 1') alive && kill $(cat $pidfile); rm -f $pidfile ;;\n"
                 "  esac ;;\n"
                 "esac\n",
             0755);
  dir_.Write("lan.conf",
             "name \"standbyctl-test\"\n"
             "set_working_mc 0x20\n"
             "  startlan 1\n"
             "    addr 127.0.0.1 " +
                 std::to_string(port_) +
                 "\n"
                 "    priv_limit admin\n"
                 "    allowed_auths_callback none md5\n"
                 "    allowed_auths_user none md5\n"
                 "    allowed_auths_operator none md5\n"
                 "    allowed_auths_admin none md5\n"
                 "    guid a123456789abcdefa123456789abcdef\n"
                 "  endlan\n"
                 "  chassis_control \"" +
                 d +
                 "/chassis.sh 0x20\"\n"
                 "  user 2 true \"" +
                 kUser + "\" \"" + kPassword + "\" admin 10 none md5\n" + "  user 3 true \"" +
                 kReader + "\" \"" + kReaderPassword + "\" user 10 none md5\n");
  dir_.Write("sim.emu",
             "mc_setbmc 0x20\n"
             "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n"
             "mc_enable 0x20\n");
  dir_.Write("state/.keep", "");
  sim_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"/usr/bin/ipmi_sim", "-c", dir_.Sub("lan.conf"), "-f",
                               dir_.Sub("sim.emu"), "-s", dir_.Sub("state"), "-n"},
      dir_.Sub("sim.log"));
  // Ready when ipmitool gets an answer; bounded.
  for (int i = 0; i < 50; ++i) {
    base::ProcessSpec spec;
    spec.argv = {"ipmitool",  "-I",      "lanplus",
                 "-C",        "3",       "-H",
                 "127.0.0.1", "-p",      std::to_string(port_),
                 "-U",        kUser,     "-E",
                 "-R",        "1",       "-N",
                 "1",         "chassis", "power",
                 "status"};
    spec.env = {{"IPMI_PASSWORD", kPassword}};
    spec.timeout = std::chrono::seconds(5);
    base::Result<base::ProcessResult> r = base::RunProcess(spec);
    if (r.ok() && r->exit_code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("ipmi_sim did not come up; see " + dir_.Sub("sim.log"));
}

IpmiSim::~IpmiSim() {
  sim_->Stop();
  int pid = HostPid();
  if (pid > 0) ::kill(pid, SIGKILL);
}

int IpmiSim::HostPid() const {
  std::ifstream in(dir_.Sub("host.pid"));
  int pid = 0;
  if (!(in >> pid) || pid <= 0 || ::kill(pid, 0) != 0) return 0;
  return pid;
}

std::string IpmiSim::HostLog() const { return ReadWholeFile(dir_.Sub("host.log")); }

std::string IpmiSim::Calls() const { return ReadWholeFile(dir_.Sub("calls.log")); }

}  // namespace sb::testing
