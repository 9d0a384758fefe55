// The Redfish driver against the tests' Redfish service (redfish_mock.py)
// over real TLS, and that service checked with independent clients:
// redfishtool and python3-sushy.

#include "standby/power/redfish_client.h"

#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>

#include "agent/base/subprocess.h"
#include "standby/power/power_driver.h"
#include "tests/support/log_capture.h"
#include "tests/support/redfish_mock.h"
#include "tests/support/temp_dir.h"

namespace sb::power {
namespace {

using sb::testing::RedfishMock;
using sb::testing::TempDir;
using std::chrono::milliseconds;

RedfishTarget Target(const RedfishMock& mock,
                     const std::string& password = RedfishMock::kPassword) {
  RedfishTarget t;
  t.config.bmc = {"127.0.0.1", static_cast<uint16_t>(mock.port())};
  t.config.username = RedfishMock::kUser;
  t.config.ca_file = mock.ca();
  t.config.timeout = milliseconds(5000);
  t.password = config::Secret(password);
  return t;
}

int Count(const RedfishMock& mock, std::string_view prefix) {
  const std::vector<std::string> lines = mock.Requests();
  return static_cast<int>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

std::string State(const RedfishTarget& t) {
  base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
  INFO(s.status().message());
  REQUIRE(s.ok());
  return s->state;
}

base::Result<base::ProcessResult> Run(const std::vector<std::string>& argv,
                                      const std::string& ca_bundle = "") {
  base::ProcessSpec spec;
  spec.argv = argv;
  // python3-requests prefers these to what its caller says to verify with.
  if (!ca_bundle.empty()) {
    spec.env = {{"REQUESTS_CA_BUNDLE", ca_bundle}, {"CURL_CA_BUNDLE", ca_bundle}};
  }
  spec.timeout = std::chrono::seconds(60);
  return base::RunProcess(spec);
}

// libcurl's pin of the public key in `key_file`: sha256//BASE64.
std::string PinOf(const std::string& key_file) {
  base::Result<base::ProcessResult> r =
      Run({"sh", "-c",
           "openssl pkey -in \"$0\" -pubout -outform der | openssl dgst -sha256 -binary | "
           "base64",
           key_file});
  REQUIRE(r.ok());
  REQUIRE(r->success());
  std::string b64 = r->out;
  while (!b64.empty() && b64.back() == '\n') b64.pop_back();
  return "sha256//" + b64;
}

TEST_CASE("redfish: power on, status and off drive the simulated system", "[redfish]") {
  TempDir dir;
  RedfishMock mock(dir);
  RedfishTarget t = Target(mock);
  CHECK(State(t) == "Off");
  base::Result<std::string> used = RedfishResetSystem(t, RedfishReset::kOn);
  REQUIRE(used.ok());
  CHECK(*used == "On");
  CHECK(State(t) == "On");
  used = RedfishResetSystem(t, RedfishReset::kGracefulShutdown);
  REQUIRE(used.ok());
  CHECK(*used == "GracefulShutdown");
  CHECK(State(t) == "Off");
  REQUIRE(RedfishResetSystem(t, RedfishReset::kOn).ok());
  used = RedfishResetSystem(t, RedfishReset::kForceOff);
  REQUIRE(used.ok());
  CHECK(*used == "ForceOff");
  CHECK(State(t) == "Off");
  // Already off: nothing is asked of the BMC.
  used = RedfishResetSystem(t, RedfishReset::kForceOff);
  REQUIRE(used.ok());
  CHECK(*used == "none (already Off)");
  // One login per command, and every session deleted.
  const int logins = Count(mock, "POST /redfish/v1/SessionService/Sessions none 201");
  CHECK(logins == 9);
  CHECK(Count(mock, "DELETE /redfish/v1/SessionService/Sessions/") == logins);
  const std::vector<std::string> lines = mock.Requests();
  CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
          return l.starts_with("DELETE /redfish/v1/SessionService/Sessions/") &&
                 l.ends_with(" token 204");
        }) == logins);
}

TEST_CASE("redfish: the driver reads Off only when the BMC says Off", "[redfish][power]") {
  TempDir dir;
  RedfishMock::Options o;
  o.state = "On";
  o.power_delay_ms = 1500;  // PoweringOff for 1.5 s
  RedfishMock mock(dir, o);
  config::StandbyConfig standby;
  standby.power.driver = config::PowerDriverKind::kRedfish;
  standby.power.redfish = Target(mock).config;
  standby.power.redfish.password = {
      config::SecretRef::Kind::kFile,
      dir.Write("bmc.pass", std::string(RedfishMock::kPassword) + "\n", 0600)};
  base::Result<std::unique_ptr<PowerDriver>> driver = MakePowerDriver(standby, nullptr);
  REQUIRE(driver.ok());
  REQUIRE((*driver)->Off().ok());
  base::Result<PowerReading> reading = (*driver)->Status();
  REQUIRE(reading.ok());
  CHECK(reading->state == PowerState::kOn);
  CHECK_THAT(reading->how, Catch::Contains("PowerState PoweringOff"));
  std::this_thread::sleep_for(milliseconds(1700));
  reading = (*driver)->Status();
  REQUIRE(reading.ok());
  CHECK(reading->state == PowerState::kOff);
  CHECK_THAT(reading->how, Catch::Contains("Redfish /redfish/v1/Systems/1 PowerState Off"));
}

TEST_CASE("redfish: a wrong password fails at once and is not retried", "[redfish]") {
  TempDir dir;
  RedfishMock mock(dir);
  RedfishTarget t = Target(mock, "wrong");
  t.config.retries = 3;
  base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == base::Code::kPermissionDenied);
  CHECK_THAT(s.status().message(),
             Catch::Contains("login as \"admin\" refused (401): ") &&
                 Catch::Contains("credentials included with this request are missing or invalid") &&
                 Catch::EndsWith("; not retried"));
  CHECK(Count(mock, "POST /redfish/v1/SessionService/Sessions") == 1);
  CHECK(s.status().message().find("wrong") == std::string::npos);  // no password in words
}

TEST_CASE("redfish: the BMC's certificate is verified unless the user says otherwise",
          "[redfish]") {
  TempDir dir;
  RedfishMock mock(dir);
  RedfishTarget t = Target(mock);
  SECTION("the system's store does not know the BMC's CA") {
    t.config.ca_file.clear();
    base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == base::Code::kPermissionDenied);
    CHECK(Count(mock, "POST") == 0);  // the password never left
  }
  SECTION("another CA") {
    sb::testing::ServicePki other(dir, "other-ca");
    t.config.ca_file = other.ca();
    base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == base::Code::kPermissionDenied);
  }
  SECTION("a pinned public key, without a CA: a self-signed BMC") {
    t.config.ca_file.clear();
    t.config.pinned_public_key = PinOf(dir.Sub("redfish-ca/redfish-bmc.key"));
    CHECK(State(t) == "Off");
  }
  SECTION("a pin that does not match") {
    t.config.ca_file.clear();
    t.config.pinned_public_key = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == base::Code::kPermissionDenied);
    CHECK(Count(mock, "POST") == 0);
  }
  SECTION("tls_verify = false works, and warns at every use") {
    t.config.ca_file.clear();
    t.config.tls_verify = false;
    sb::testing::LogCapture log;
    CHECK(State(t) == "Off");
    CHECK(State(t) == "Off");
    const std::vector<std::string> lines = log.Lines();
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
            return l.find("tls_verify = false") != std::string::npos;
          }) == 2);
  }
}

TEST_CASE("redfish: 503 bursts are retried, task monitors followed", "[redfish]") {
  TempDir dir;
  RedfishMock::Options o;
  SECTION("two 503s, then answers") {
    o.busy = 2;
    RedfishMock mock(dir, o);
    RedfishTarget t = Target(mock);
    CHECK(State(t) == "Off");
    CHECK(Count(mock, "GET /redfish/v1/ none 503") == 2);
  }
  SECTION("more 503s than retries") {
    o.busy = 10;
    RedfishMock mock(dir, o);
    RedfishTarget t = Target(mock);
    t.config.retries = 2;
    base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == base::Code::kUnavailable);
    CHECK_THAT(s.status().message(),
               Catch::Contains("answered 503") &&
                   Catch::Contains("The service is temporarily unavailable."));
    CHECK(Count(mock, "GET /redfish/v1/ none 503") == 3);
  }
  SECTION("a reset answered 202 returns once its task ends") {
    o.task = true;
    o.power_delay_ms = 1200;
    RedfishMock mock(dir, o);
    RedfishTarget t = Target(mock);
    REQUIRE(RedfishResetSystem(t, RedfishReset::kOn).ok());
    CHECK(State(t) == "On");
    CHECK(Count(mock, "GET /redfish/v1/TaskService/TaskMonitors/1 token 202") >= 1);
    CHECK(Count(mock, "GET /redfish/v1/TaskService/TaskMonitors/1 token 200") == 1);
  }
}

TEST_CASE("redfish: the reset asked for is one the BMC allows", "[redfish]") {
  TempDir dir;
  RedfishMock::Options o;
  o.action_info = GENERATE(false, true);
  INFO("allowed values in " << (o.action_info ? "ActionInfo" : "AllowableValues"));
  SECTION("no On: the power button") {
    o.reset_types = "PushPowerButton,ForceOff";
    RedfishMock mock(dir, o);
    RedfishTarget t = Target(mock);
    base::Result<std::string> used = RedfishResetSystem(t, RedfishReset::kOn);
    REQUIRE(used.ok());
    CHECK(*used == "PushPowerButton");
    CHECK(State(t) == "On");
  }
  SECTION("no ForceOff: a clear refusal, nothing sent") {
    o.reset_types = "On,GracefulShutdown";
    o.state = "On";
    RedfishMock mock(dir, o);
    RedfishTarget t = Target(mock);
    base::Result<std::string> used = RedfishResetSystem(t, RedfishReset::kForceOff);
    REQUIRE_FALSE(used.ok());
    CHECK(used.status().code() == base::Code::kFailedPrecondition);
    CHECK_THAT(used.status().message(),
               Catch::Contains("the BMC allows ResetType On, GracefulShutdown; none of ForceOff"));
    CHECK(Count(mock, "POST /redfish/v1/Systems") == 0);
    CHECK(State(t) == "On");
  }
}

TEST_CASE("redfish: Links and Actions of another shape are an error, not a crash", "[redfish]") {
  TempDir dir;
  RedfishMock::Options o;
  o.odd_shapes = true;
  RedfishMock mock(dir, o);
  RedfishTarget t = Target(mock);
  // No sessions link to follow: basic authentication. No reset action: a
  // clear refusal, and nothing posted.
  base::Result<std::string> used = RedfishResetSystem(t, RedfishReset::kOn);
  REQUIRE_FALSE(used.ok());
  CHECK(used.status().code() == base::Code::kFailedPrecondition);
  CHECK_THAT(used.status().message(), Catch::Contains("has no #ComputerSystem.Reset action"));
  CHECK(Count(mock, "POST") == 0);
  CHECK(Count(mock, "GET /redfish/v1/Systems/1 basic 200") == 1);
}

TEST_CASE("redfish: basic authentication when the service has no sessions", "[redfish]") {
  TempDir dir;
  RedfishMock::Options o;
  o.no_sessions = true;
  RedfishMock mock(dir, o);
  RedfishTarget t = Target(mock);
  REQUIRE(RedfishResetSystem(t, RedfishReset::kOn).ok());
  CHECK(State(t) == "On");
  CHECK(Count(mock, "POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset basic 204") == 1);
  CHECK(Count(mock, "POST /redfish/v1/SessionService") == 0);
}

TEST_CASE("redfish: system_id picks the system, and a wrong one names those there are",
          "[redfish]") {
  TempDir dir;
  RedfishMock::Options o;
  o.system_id = "System.Embedded.1";
  RedfishMock mock(dir, o);
  RedfishTarget t = Target(mock);
  CHECK(State(t) == "Off");  // the only one
  t.config.system_id = "System.Embedded.1";
  CHECK(State(t) == "Off");
  t.config.system_id = "2";
  base::Result<RedfishPowerState> s = GetRedfishPowerState(t);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == base::Code::kNotFound);
  CHECK_THAT(s.status().message(), Catch::Contains("no system \"2\"; it has: System.Embedded.1"));
  // The session of the failed command was deleted too.
  CHECK(Count(mock, "DELETE") == Count(mock, "POST /redfish/v1/SessionService/Sessions none 201"));
}

TEST_CASE("redfish mock: redfishtool and sushy, independent clients, agree with it", "[redfish]") {
  TempDir dir;
  RedfishMock mock(dir);
  RedfishTarget t = Target(mock);
  const std::string rhost = "127.0.0.1:" + std::to_string(mock.port());
  const std::vector<std::string> redfishtool = {
      "redfishtool",          "-r", rhost,    "-u", RedfishMock::kUser, "-p",
      RedfishMock::kPassword, "-S", "Always", "-A", "Session"};
  // redfishtool lists the system, and its reset moves the system.
  std::vector<std::string> argv = redfishtool;
  argv.insert(argv.end(), {"Systems", "list"});
  base::Result<base::ProcessResult> r = Run(argv);
  REQUIRE(r.ok());
  INFO(r->out << r->err);
  CHECK(r->success());
  CHECK_THAT(r->out, Catch::Contains("/redfish/v1/Systems/1"));
  argv = redfishtool;
  argv.insert(argv.end(), {"Systems", "-I", "1", "reset", "On"});
  r = Run(argv);
  REQUIRE(r.ok());
  INFO(r->out << r->err);
  CHECK(r->success());
  CHECK(State(t) == "On");
  // sushy reads what we set, and we read what it sets.
  const std::string sushy = R"(
import sys, sushy
auth = sushy.auth.SessionAuth(username=sys.argv[2], password=sys.argv[3])
root = sushy.Sushy("https://127.0.0.1:%s/redfish/v1" % sys.argv[1], verify=sys.argv[4], auth=auth)
system = root.get_system("/redfish/v1/Systems/1")
print("before", system.power_state)
system.reset_system(sushy.RESET_FORCE_OFF)
system.refresh()
print("after", system.power_state)
)";
  r = Run({"/usr/bin/python3", "-c", sushy, std::to_string(mock.port()), RedfishMock::kUser,
           RedfishMock::kPassword, mock.ca()},
          mock.ca());
  REQUIRE(r.ok());
  INFO(r->out << r->err);
  CHECK(r->success());
  CHECK_THAT(r->out,
             Catch::Contains("before PowerState.ON") && Catch::Contains("after PowerState.OFF"));
  CHECK(State(t) == "Off");
}

}  // namespace
}  // namespace sb::power
