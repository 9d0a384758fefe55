// The IPMI client against OpenIPMI's ipmi_sim, cross-checked with ipmitool.

#include "standby/power/ipmi_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "tests/support/background_process.h"
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

// A lossy link between client and BMC: forwards UDP both ways and drops the
// first Open Session request, as a congested network might.
class LossyLink {
 public:
  explicit LossyLink(int bmc_port) {
    fd_ = sb::testing::BindLoopback(SOCK_DGRAM, &port_);
    bmc_.sin_family = AF_INET;
    bmc_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bmc_.sin_port = htons(static_cast<uint16_t>(bmc_port));
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { Run(); });
  }
  ~LossyLink() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int open_requests() const { return open_requests_; }

 private:
  void Run() {
    sockaddr_in client{};
    while (!stop_) {
      char buf[2048];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      if (from.sin_port == bmc_.sin_port) {
        ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&client),
                 sizeof client);
        continue;
      }
      client = from;
      if (n > 5 && buf[4] == 0x06 && buf[5] == 0x10 && open_requests_++ == 0) continue;  // lost
      ::sendto(fd_, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&bmc_),
               sizeof bmc_);
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  sockaddr_in bmc_{};
  std::atomic<bool> stop_{false};
  std::atomic<int> open_requests_{0};
  std::thread thread_;
};

TEST_CASE("ipmi: a lost handshake message starts the handshake over", "[ipmi]") {
  IpmiSim sim;
  LossyLink link(sim.port());
  IpmiTarget t = Target(sim);
  t.bmc.port = link.port();
  t.suite = config::IpmiCipherSuite::kSuite3;
  t.timeout = milliseconds(300);
  base::Result<ChassisStatus> status = GetChassisStatus(t);
  INFO(status.status().message());
  REQUIRE(status.ok());
  CHECK(link.open_requests() == 2);
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
