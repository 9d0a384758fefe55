// The findings from real indicators: a real process holding 400 loopback
// sockets in CLOSE_WAIT, read from this machine's /proc, and a session storm
// against a real agent (in process, over TLS), read through its Indicators
// replies as the drill reads them.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "agent/host/indicators.h"
#include "agent/proto/message.h"
#include "standby/drill/findings.h"
#include "tests/support/agent_fixture.h"
#include "tests/support/background_process.h"
#include "tests/support/temp_dir.h"

namespace sb::drill {
namespace {

using sb::testing::BackgroundProcess;
using sb::testing::TempDir;

// Connects `count` sockets to its own listener and closes the accepted
// ends: its own ends sit in CLOSE_WAIT, as a client's do when it never
// closes what the server closed. Writes `ready` when they are there.
constexpr const char* kStuckClient = R"py(
import socket, sys, time
count, ready = int(sys.argv[1]), sys.argv[2]
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1024)
held = []
for _ in range(count):
    held.append(socket.create_connection(server.getsockname()))
    accepted, _ = server.accept()
    accepted.close()
with open(ready, "w") as f:
    f.write("ready")
time.sleep(120)
)py";

bool WaitForFile(const std::string& path) {
  for (int i = 0; i < 200; ++i) {  // 20 s at most
    if (std::ifstream(path).good()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_CASE("findings live: a process holding 400 sockets in CLOSE_WAIT is named",
          "[findings][live]") {
  TempDir dir;
  const std::string script = dir.Write("stuck_client.py", kStuckClient);
  BackgroundProcess stuck({"/usr/bin/python3", script, "400", dir.Sub("ready")},
                          dir.Sub("stuck.log"));
  REQUIRE(WaitForFile(dir.Sub("ready")));

  HostWindow w;
  w.host = "primary";
  w.after = host::ReadIndicators();
  w.after->close_wait_owners.erase(
      std::remove_if(w.after->close_wait_owners.begin(), w.after->close_wait_owners.end(),
                     [&](const host::SocketOwner& o) { return o.pid != stuck.pid(); }),
      w.after->close_wait_owners.end());
  REQUIRE(w.after->close_wait_owners.size() == 1);
  CHECK(w.after->close_wait_owners[0].sockets == 400);
  CHECK(w.after->close_wait >= 400);

  std::vector<Finding> found = ReadFindings(w);
  const std::string expected = fmt::format(
      "pid {} (python3) holds 400 sockets in CLOSE_WAIT: it does not close what its "
      "peers closed",
      stuck.pid());
  CHECK(std::any_of(found.begin(), found.end(), [&](const Finding& f) {
    return f.kind == "close-wait" && f.what == expected;
  }));
  // A degraded primary with it is explained.
  Weigh(Verdict::kPrimaryDegraded, &found);
  CHECK(AnyOn(found, "primary"));
}

TEST_CASE("findings live: a session storm on an agent shows as its rate", "[findings][live]") {
  sb::testing::TestPki pki;
  sb::testing::TestAgent agent(pki, agent::Role::kPrimary);
  std::unique_ptr<client::AgentClient> drill = agent.Controller();
  auto read = [&] {
    base::Result<nlohmann::json> j =
        drill->Call(proto::type::kIndicators, nlohmann::json::object());
    REQUIRE(j.ok());
    base::Result<host::Indicators> in = host::IndicatorsFromJson(*j);
    REQUIRE(in.ok());
    return *in;
  };
  HostWindow w;
  w.host = "primary";
  const auto start = std::chrono::steady_clock::now();
  w.before = read();
  // A watcher that logs in every 100 ms, 12 times, and leaves each time.
  for (int i = 0; i < 12; ++i) {
    std::unique_ptr<client::AgentClient> watcher = agent.Controller();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  w.after = read();
  w.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(w.before->agent_sessions.has_value());
  CHECK(*w.after->agent_sessions - *w.before->agent_sessions == 12);

  std::vector<Finding> found = ReadFindings(w);
  auto storm = std::find_if(found.begin(), found.end(),
                            [](const Finding& f) { return f.kind == "session-rate"; });
  REQUIRE(storm != found.end());
  CHECK_THAT(storm->what, Catch::StartsWith("12 new agent sessions in "));
  CHECK_THAT(storm->what, Catch::EndsWith(" a minute): a session storm"));
}

}  // namespace
}  // namespace sb::drill
