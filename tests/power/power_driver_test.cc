// The power drivers and the confirmed-off sequence. WoL goes to a UDP
// listener the test makes on loopback; commands are scripts; the IPMI driver
// drives ipmi_sim.

#include "standby/power/power_driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "standby/power/confirmed_off.h"
#include "tests/support/background_process.h"
#include "tests/support/ipmi_sim.h"
#include "tests/support/temp_dir.h"
#include "tests/support/udp_proxy.h"

namespace sb::power {
namespace {

using sb::testing::IpmiSim;
using sb::testing::TempDir;
using std::chrono::milliseconds;

// A HostAgent whose answers the test decides.
class FakeAgent final : public HostAgent {
 public:
  bool reachable = false;
  base::Status shutdown_result = base::Status::Unavailable("agent not reachable");
  std::function<void()> on_shutdown;
  int shutdowns = 0;
  bool Reachable() override { return reachable; }
  base::Status Shutdown() override {
    ++shutdowns;
    if (shutdown_result.ok() && on_shutdown) on_shutdown();
    return shutdown_result;
  }
};

// A driver whose chassis the test controls: it goes off after `off_after`
// status reads once asked to, or never.
class FakeDriver final : public PowerDriver {
 public:
  bool on = true;
  bool has_hard_off = true;
  int reads_until_off = -1;  // counting down after a shutdown or hard off
  int hard_offs = 0;
  int reads = 0;
  bool refuse_login = false;  // a wrong password: every call is refused
  std::string_view name() const override { return "fake"; }
  base::Result<PowerReading> Status() override {
    ++reads;
    if (refuse_login) return base::Status::PermissionDenied("login as \"admin\" failed");
    if (reads_until_off > 0 && --reads_until_off == 0) on = false;
    return PowerReading{on ? PowerState::kOn : PowerState::kOff, "fake chassis"};
  }
  base::Status On() override { return base::Status::Ok(); }
  base::Status Off() override {
    ++hard_offs;
    if (!has_hard_off) return base::Status::FailedPrecondition("no hard off");
    reads_until_off = 1;
    return base::Status::Ok();
  }
  base::Status SoftOff() override { return base::Status::Ok(); }
};

OffOptions Quick() {
  OffOptions o;
  o.graceful_timeout = milliseconds(200);
  o.hard_timeout = milliseconds(200);
  o.poll_interval = milliseconds(10);
  return o;
}

TEST_CASE("confirmed off: a graceful shutdown through the agent is enough", "[power]") {
  FakeDriver driver;
  FakeAgent agent;
  agent.shutdown_result = base::Status::Ok();
  agent.on_shutdown = [&] { driver.reads_until_off = 3; };
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE(r.ok());
  CHECK(r->graceful);
  CHECK_FALSE(r->hard);
  CHECK(driver.hard_offs == 0);
  CHECK(r->steps.back() == "off (fake chassis)");
}

TEST_CASE("confirmed off: the first readings come soon, then every poll_interval", "[power]") {
  FakeDriver driver;
  FakeAgent agent;
  agent.shutdown_result = base::Status::Ok();
  agent.on_shutdown = [&] { driver.reads_until_off = 6; };
  OffOptions options;  // 2 s between readings at most
  std::chrono::nanoseconds now{0};
  std::vector<int64_t> waits;
  options.now = [&] { return now; };
  options.sleep = [&](milliseconds d) {
    waits.push_back(d.count());
    now += d;
  };
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, options);
  REQUIRE(r.ok());
  CHECK(r->graceful);
  CHECK(waits == std::vector<int64_t>{250, 500, 1000, 2000, 2000});
}

TEST_CASE("confirmed off: an unreachable agent leads to the hard power off", "[power]") {
  FakeDriver driver;
  FakeAgent agent;
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE(r.ok());
  CHECK(r->hard);
  CHECK(r->steps[1] == "graceful shutdown through the agent failed: agent not reachable");
}

TEST_CASE("confirmed off: a host that ignores its shutdown is powered off hard", "[power]") {
  FakeDriver driver;
  FakeAgent agent;
  agent.shutdown_result = base::Status::Ok();  // accepted, but nothing happens
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE(r.ok());
  CHECK(r->hard);
  CHECK(r->steps[2].starts_with("not off after 200ms: still on (fake chassis)"));
}

TEST_CASE("confirmed off: a host that never goes off fails loudly", "[power]") {
  FakeDriver driver;
  driver.has_hard_off = false;
  FakeAgent agent;
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().starts_with("the standby may still be on"));
}

TEST_CASE("confirmed off: a refused login is not tried again, and the off is not confirmed",
          "[power]") {
  FakeDriver driver;
  driver.refuse_login = true;
  FakeAgent agent;
  agent.shutdown_result = base::Status::Ok();
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == base::Code::kPermissionDenied);
  INFO(r.status().message());
  CHECK(r.status().message() ==
        "the standby may still be on: fake refused the login (login as \"admin\" failed), so the "
        "off cannot be confirmed and there is no hard power off; the agent accepted the shutdown "
        "request; check it by hand");
  CHECK(driver.reads == 1);  // one login, no polling
  CHECK(driver.hard_offs == 0);
  CHECK(agent.shutdowns == 1);  // the agent was still asked

  // Refused only once polling has begun (the password changed meanwhile):
  // the polling stops there.
  FakeDriver later;
  FakeAgent accepting;
  accepting.shutdown_result = base::Status::Ok();
  accepting.on_shutdown = [&] { later.refuse_login = true; };
  r = PowerOffConfirmed(later, accepting, Quick());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == base::Code::kPermissionDenied);
  CHECK(later.reads == 2);
  CHECK(later.hard_offs == 0);
}

TEST_CASE("confirmed off: an off host is left alone", "[power]") {
  FakeDriver driver;
  driver.on = false;
  FakeAgent agent;
  base::Result<OffReport> r = PowerOffConfirmed(driver, agent, Quick());
  REQUIRE(r.ok());
  CHECK_FALSE(r->was_on);
  CHECK(agent.shutdowns == 0);
}

config::StandbyConfig WolStandby(uint16_t port) {
  config::StandbyConfig s;
  s.name = "s";
  s.power.driver = config::PowerDriverKind::kWol;
  s.power.wol.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  s.power.wol.broadcast = "127.0.0.1";  // tests never send beyond loopback
  s.power.wol.port = port;
  s.power.wol.packets = 2;
  return s;
}

TEST_CASE("wol: the magic packet arrives exactly as specified", "[power]") {
  uint16_t port = 0;
  int fd = sb::testing::BindLoopback(SOCK_DGRAM, &port);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  FakeAgent agent;
  auto driver = MakePowerDriver(WolStandby(port), &agent);
  REQUIRE(driver.ok());
  REQUIRE((*driver)->On().ok());
  std::string expected(6, '\xff');
  for (int i = 0; i < 16; ++i) expected += std::string("\x52\x54\x00\x12\x34\x56", 6);
  for (int i = 0; i < 2; ++i) {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n == 102);
    CHECK(std::string(buf, 102) == expected);
  }
  ::close(fd);

  // State comes from the agent; there is no hard off.
  CHECK((*driver)->Status()->state == PowerState::kOff);
  agent.reachable = true;
  CHECK((*driver)->Status()->state == PowerState::kOn);
  CHECK((*driver)->Off().code() == base::Code::kFailedPrecondition);
}

TEST_CASE("wol: a TCP probe tells a host that is up but whose agent is not", "[power]") {
  uint16_t port = 0;
  int listener = sb::testing::BindLoopback(SOCK_STREAM, &port);
  REQUIRE(::listen(listener, 4) == 0);
  config::StandbyConfig s = WolStandby(9);
  s.power.wol.probe = base::Endpoint{"127.0.0.1", port};
  FakeAgent agent;
  auto driver = MakePowerDriver(s, &agent);
  REQUIRE(driver.ok());
  base::Result<PowerReading> r = (*driver)->Status();
  REQUIRE(r.ok());
  CHECK(r->state == PowerState::kOn);
  CHECK(r->how == "its agent did not answer, but TCP 127.0.0.1:" + std::to_string(port) + " did");
  ::close(listener);
  r = (*driver)->Status();
  CHECK(r->state == PowerState::kOff);
}

TEST_CASE("command driver: exit codes and the status word", "[power]") {
  TempDir dir;
  std::string state = dir.Sub("state");
  dir.Write("on.sh", "#!/bin/sh\necho on > " + state + "\n", 0755);
  dir.Write("off.sh", "#!/bin/sh\necho off > " + state + "\n", 0755);
  dir.Write("status.sh", "#!/bin/sh\ncat " + state + " 2>/dev/null || echo off\n", 0755);
  dir.Write("broken.sh", "#!/bin/sh\necho 'PDU unreachable' >&2\nexit 4\n", 0755);
  dir.Write("chatty.sh", "#!/bin/sh\necho maybe\n", 0755);
  config::StandbyConfig s;
  s.power.driver = config::PowerDriverKind::kCommand;
  s.power.command.on = {dir.Sub("on.sh")};
  s.power.command.off = {dir.Sub("off.sh")};
  s.power.command.status = {dir.Sub("status.sh")};
  s.power.command.timeout = std::chrono::seconds(10);
  FakeAgent agent;
  auto driver = MakePowerDriver(s, &agent);
  REQUIRE(driver.ok());
  CHECK((*driver)->Status()->state == PowerState::kOff);
  REQUIRE((*driver)->On().ok());
  base::Result<PowerReading> r = (*driver)->Status();
  REQUIRE(r.ok());
  CHECK(r->state == PowerState::kOn);
  CHECK(r->how == dir.Sub("status.sh") + " printed \"on\"");
  CHECK((*driver)->SoftOff().message() == "no soft_off command is configured");

  s.power.command.on = {dir.Sub("broken.sh")};
  s.power.command.status = {dir.Sub("chatty.sh")};
  driver = MakePowerDriver(s, &agent);
  CHECK((*driver)->On().message() ==
        "power on command " + dir.Sub("broken.sh") + " failed (exit 4): PDU unreachable");
  CHECK((*driver)->Status().status().message() ==
        "power status command printed \"maybe\n\"; it must print \"on\" or \"off\" first");
}

TEST_CASE("ipmi driver: off through ipmi_sim when the agent cannot be reached", "[power][ipmi]") {
  IpmiSim sim;
  TempDir dir;
  config::StandbyConfig s;
  s.power.driver = config::PowerDriverKind::kIpmi;
  s.power.ipmi.bmc = {"127.0.0.1", static_cast<uint16_t>(sim.port())};
  s.power.ipmi.username = IpmiSim::kUser;
  s.power.ipmi.password = {config::SecretRef::Kind::kFile,
                           dir.Write("bmc.pass", std::string(IpmiSim::kPassword) + "\n", 0600)};
  s.power.ipmi.min_interval = milliseconds(0);
  FakeAgent agent;
  auto driver = MakePowerDriver(s, &agent);
  REQUIRE(driver.ok());
  REQUIRE((*driver)->On().ok());
  REQUIRE(sim.HostPid() > 0);
  OffOptions options = Quick();
  options.poll_interval = milliseconds(50);
  base::Result<OffReport> r = PowerOffConfirmed(**driver, agent, options);
  REQUIRE(r.ok());
  CHECK(r->hard);
  CHECK(sim.HostPid() == 0);
  CHECK(r->confirmed.how.find("chassis status") != std::string::npos);
}

TEST_CASE("ipmi driver: a wrong password costs one login in a whole power off", "[power][ipmi]") {
  IpmiSim sim;
  TempDir dir;
  // The logins (RAKP 1 messages) are counted on their way to the BMC.
  sb::testing::UdpProxy link(sim.port(), {});
  config::StandbyConfig s;
  s.power.driver = config::PowerDriverKind::kIpmi;
  s.power.ipmi.bmc = {"127.0.0.1", link.port()};
  s.power.ipmi.username = IpmiSim::kUser;
  s.power.ipmi.password = {config::SecretRef::Kind::kFile,
                           dir.Write("bmc.pass", "not-the-password\n", 0600)};
  s.power.ipmi.min_interval = milliseconds(0);
  FakeAgent agent;
  agent.shutdown_result = base::Status::Ok();
  auto driver = MakePowerDriver(s, &agent);
  REQUIRE(driver.ok());
  base::Result<OffReport> r = PowerOffConfirmed(**driver, agent, Quick());
  REQUIRE_FALSE(r.ok());
  INFO(r.status().message());
  CHECK(r.status().message().starts_with("the standby may still be on: ipmi refused the login"));
  int logins = 0;
  for (const std::string& d : link.Requests())
    logins += d.size() > 5 && d[4] == 0x06 && d[5] == 0x12;
  CHECK(logins == 1);
}

}  // namespace
}  // namespace sb::power
