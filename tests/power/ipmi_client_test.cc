// The IPMI client against OpenIPMI's ipmi_sim, cross-checked with ipmitool.

#include "standby/power/ipmi_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/ipmi_sim.h"

namespace sb::power {
namespace {

using sb::testing::IpmiSim;
using std::chrono::milliseconds;

IpmiTarget Target(const IpmiSim& sim, const std::string& password = IpmiSim::kPassword) {
  IpmiTarget t;
  t.bmc = {"127.0.0.1", static_cast<uint16_t>(sim.port())};
  t.username = IpmiSim::kUser;
  t.password = config::Secret(password);
  t.timeout = milliseconds(1000);
  t.retries = 2;
  t.min_interval = milliseconds(0);
  return t;
}

// What ipmitool, an independent client, says or does.
std::string Ipmitool(const IpmiSim& sim, const std::string& action) {
  base::ProcessSpec spec;
  spec.argv = {
      "ipmitool",     "-I", "lanplus", "-H",    "127.0.0.1", "-p", std::to_string(sim.port()), "-U",
      IpmiSim::kUser, "-E", "chassis", "power", action};
  spec.env = {{"IPMI_PASSWORD", IpmiSim::kPassword}};
  spec.timeout = std::chrono::seconds(20);
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  REQUIRE(r.ok());
  return r->out;
}

TEST_CASE("ipmi: power on, status and off drive the simulated chassis", "[ipmi]") {
  IpmiSim sim;
  IpmiTarget t = Target(sim);
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  INFO(status.status().message());
  REQUIRE(status.ok());
  CHECK_FALSE(status->power_on);
  CHECK(status->cipher_suite == 3);  // ipmi_sim has no SHA-256: suite 17 fell back

  REQUIRE(ChassisControl(t, ChassisAction::kPowerOn).ok());
  CHECK(sim.HostPid() > 0);
  status = GetChassisStatus(t);
  REQUIRE(status.ok());
  CHECK(status->power_on);

  REQUIRE(ChassisControl(t, ChassisAction::kPowerOff).ok());
  CHECK(sim.HostPid() == 0);
  CHECK_FALSE(GetChassisStatus(t)->power_on);

  REQUIRE(ChassisControl(t, ChassisAction::kPowerOn).ok());
  REQUIRE(ChassisControl(t, ChassisAction::kSoftOff).ok());
  CHECK(sim.Calls().find("set shutdown 1") != std::string::npos);
  CHECK(sim.HostPid() == 0);
}

TEST_CASE("ipmi: ipmitool reads what we set, and we read what it sets", "[ipmi]") {
  IpmiSim sim;
  IpmiTarget t = Target(sim);
  REQUIRE(ChassisControl(t, ChassisAction::kPowerOn).ok());
  CHECK(Ipmitool(sim, "status") == "Chassis Power is on\n");
  Ipmitool(sim, "off");
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  REQUIRE(status.ok());
  CHECK_FALSE(status->power_on);
}

TEST_CASE("ipmi: a wrong password fails at once, without retrying", "[ipmi]") {
  IpmiSim sim;
  IpmiTarget t = Target(sim, "not-the-password");
  auto start = std::chrono::steady_clock::now();
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().code() == base::Code::kPermissionDenied);
  CHECK(status.status().message().find("login as \"admin\"") != std::string::npos);
  CHECK(status.status().message().find("not retried") != std::string::npos);
  CHECK(status.status().message().find("not-the-password") == std::string::npos);
  CHECK(took < milliseconds(900));  // less than one timeout: no retry
}

TEST_CASE("ipmi: pinning suite 17 on a BMC without it says so", "[ipmi]") {
  IpmiSim sim;
  IpmiTarget t = Target(sim);
  t.suite = config::IpmiCipherSuite::kSuite17;
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().message().find("open session refused") != std::string::npos);
  CHECK(status.status().message().find("cipher suite 17") != std::string::npos);
}

TEST_CASE("ipmi: a BMC that never answers times out within the bound", "[ipmi]") {
  // A bound UDP socket that reads nothing: datagrams vanish, as with a
  // powered-down BMC behind a switch.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  IpmiTarget t;
  t.bmc = {"127.0.0.1", ntohs(addr.sin_port)};
  t.username = "admin";
  t.password = config::Secret("x");
  t.timeout = milliseconds(200);
  t.retries = 2;  // 200 + 400 + 800 ms at most
  t.min_interval = milliseconds(0);
  auto start = std::chrono::steady_clock::now();
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().code() == base::Code::kTimeout);
  CHECK(status.status().message().find("no reply after 3 attempts") != std::string::npos);
  CHECK(took < milliseconds(2500));
}

TEST_CASE("ipmi: nothing listening is refused at once", "[ipmi]") {
  IpmiTarget t;
  t.bmc = {"127.0.0.1", 9};  // discard: nothing listens on loopback
  t.username = "admin";
  t.password = config::Secret("x");
  t.min_interval = milliseconds(0);
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  REQUIRE_FALSE(status.ok());
  CHECK(status.status().message().find("connection refused") != std::string::npos);
}

TEST_CASE("ipmi: fifty commands in a row leave no session open", "[ipmi]") {
  IpmiSim sim;
  IpmiTarget t = Target(sim);
  for (int i = 0; i < 50; ++i) {
    base::Result<ChassisStatus> status = GetChassisStatus(t);
    INFO("command " << i);
    REQUIRE(status.ok());
  }
  // ipmitool still gets a session: the table was not filled.
  CHECK(Ipmitool(sim, "status") == "Chassis Power is off\n");
}

}  // namespace
}  // namespace sb::power
