// The IPMI client against OpenIPMI's ipmi_sim, cross-checked with ipmitool.

#include "standby/power/ipmi_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "standby/power/rmcp.h"
#include "tests/support/background_process.h"
#include "tests/support/ipmi_sim.h"
#include "tests/support/udp_proxy.h"

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

bool IsOpenSessionRequest(std::string_view d) {
  return d.size() > 5 && d[4] == 0x06 && d[5] == rmcp::kOpenSessionRequest;
}

// What ipmitool, an independent client, says or does. Suite 3 is pinned:
// left to its default, ipmitool spends about 10 s probing for suite 17,
// which ipmi_sim lacks.
std::string Ipmitool(const IpmiSim& sim, const std::string& action) {
  base::ProcessSpec spec;
  spec.argv = {"ipmitool",
               "-I",
               "lanplus",
               "-C",
               "3",
               "-H",
               "127.0.0.1",
               "-p",
               std::to_string(sim.port()),
               "-U",
               IpmiSim::kUser,
               "-E",
               "chassis",
               "power",
               action};
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

TEST_CASE("ipmi: the power state is read at USER privilege, changed at OPERATOR", "[ipmi]") {
  // What each Open Session request asks for (the byte after the tag) is
  // read on the way to the BMC.
  IpmiSim sim;
  sb::testing::UdpProxy link(sim.port(), {});
  IpmiTarget t = Target(sim);
  t.bmc.port = link.port();
  t.suite = config::IpmiCipherSuite::kSuite3;
  // A read-only account reads the power state. (ipmi_sim does not hold a
  // user to its privilege limit, so its refusal to change power cannot be
  // shown here; rmcp_test checks the words for it.)
  t.username = IpmiSim::kReader;
  t.password = config::Secret(IpmiSim::kReaderPassword);
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  INFO(status.status().message());
  REQUIRE(status.ok());
  CHECK_FALSE(status->power_on);
  t.username = IpmiSim::kUser;
  t.password = config::Secret(IpmiSim::kPassword);
  REQUIRE(ChassisControl(t, ChassisAction::kPowerOn).ok());
  CHECK(sim.HostPid() > 0);
  std::vector<int> asked;
  for (const std::string& d : link.Requests()) {
    if (IsOpenSessionRequest(d) && d.size() > 17) asked.push_back(d[17]);
  }
  CHECK(asked == std::vector<int>{rmcp::kPrivilegeUser, rmcp::kPrivilegeOperator});
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
  uint16_t port = 0;
  int fd = sb::testing::BindLoopback(SOCK_DGRAM, &port);
  IpmiTarget t;
  t.bmc = {"127.0.0.1", port};
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

TEST_CASE("ipmi: a lost handshake message starts the handshake over", "[ipmi]") {
  IpmiSim sim;
  int open_requests = 0;
  sb::testing::UdpProxy::Faults faults;
  // The first Open Session request is lost, as on a congested network.
  faults.lose_request = [&open_requests](std::string_view d, int) {
    return IsOpenSessionRequest(d) && open_requests++ == 0;
  };
  sb::testing::UdpProxy link(sim.port(), faults);
  IpmiTarget t = Target(sim);
  t.bmc.port = link.port();
  t.suite = config::IpmiCipherSuite::kSuite3;
  t.timeout = milliseconds(300);
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  INFO(status.status().message());
  REQUIRE(status.ok());
  CHECK(link.lost() == 1);
}

TEST_CASE("ipmi: a late reply to an earlier attempt is not taken for the answer to a later one",
          "[ipmi]") {
  // Every reply arrives 600 ms late, after the 400 ms timeout: each step is
  // answered while its next attempt waits. The late refusal of suite 17
  // must not be read as the answer for suite 3, nor a late reply to an
  // abandoned handshake as the answer for the next.
  IpmiSim sim;
  sb::testing::UdpProxy::Faults faults;
  faults.reply_delay = milliseconds(600);
  sb::testing::UdpProxy link(sim.port(), faults);
  IpmiTarget t = Target(sim);
  t.bmc.port = link.port();
  t.timeout = milliseconds(400);
  t.retries = 2;
  for (int i = 0; i < 3; ++i) {
    base::Result<ChassisStatus> status = GetChassisStatus(t);
    INFO("call " << i << ": " << status.status().message());
    REQUIRE(status.ok());
    CHECK(status->cipher_suite == 3);
    CHECK_FALSE(status->power_on);
  }
}

TEST_CASE("ipmi: replies that arrive but are rejected are counted and named", "[ipmi]") {
  IpmiSim sim;
  sb::testing::UdpProxy::Faults faults;
  // Every authenticated reply (inside the session) is damaged in transit.
  faults.damage_reply = [](std::string_view d) {
    return d.size() > 5 && (static_cast<uint8_t>(d[5]) & 0x40) != 0;
  };
  sb::testing::UdpProxy link(sim.port(), faults);
  IpmiTarget t = Target(sim);
  t.bmc.port = link.port();
  t.suite = config::IpmiCipherSuite::kSuite3;
  t.timeout = milliseconds(200);
  t.retries = 1;
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  REQUIRE_FALSE(status.ok());
  const std::string& m = status.status().message();
  INFO(m);
  CHECK(status.status().code() == base::Code::kTimeout);
  // Set Session Privilege is the first request in the session: two
  // attempts, each answered, each answer damaged.
  CHECK_THAT(m, Catch::Contains("set session privilege to USER: no valid reply: 2 replies "
                                "rejected, 2 failed the integrity check after 2 attempts"));
  CHECK(link.damaged() >= 2);
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
