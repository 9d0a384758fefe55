// The findings from tables of indicator readings: each threshold on either
// side of its edge, the rates over a window, and how each finding bears on
// each verdict.
#include "standby/drill/findings.h"

#include <catch2/catch.hpp>

namespace sb::drill {
namespace {

using host::Indicators;
using host::Pressure;

Indicators Calm() {
  Indicators in;
  in.cpus = 2;
  in.load1 = 0.5;
  in.forks = 1000;
  in.ephemeral_low = 32768;
  in.ephemeral_high = 60999;
  in.agent_sessions = 10;
  in.logind_last_id = 40;
  return in;
}

Pressure Psi(double some, std::optional<double> full = std::nullopt) {
  Pressure p;
  p.some_avg10 = some;
  p.full_avg10 = full;
  return p;
}

HostWindow Window(const char* host, const Indicators& before, const Indicators& after,
                  double seconds = 10) {
  HostWindow w;
  w.host = host;
  w.before = before;
  w.after = after;
  w.seconds = seconds;
  return w;
}

std::vector<std::string> Kinds(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  out.reserve(findings.size());
  for (const Finding& f : findings) out.push_back(f.kind);
  return out;
}

TEST_CASE("findings: each indicator against its threshold", "[findings]") {
  struct Row {
    const char* name;
    std::function<void(Indicators&, Indicators&)> change;
    std::vector<std::string> kinds;
    const char* what;  // the first finding's words
  } rows[] = {
      {"a calm host", [](Indicators&, Indicators&) {}, {}, ""},
      {"memory some just below 10%",
       [](Indicators&, Indicators& a) { a.memory = Psi(9.9, 0); },
       {},
       ""},
      {"memory some at 10%",
       [](Indicators&, Indicators& a) { a.memory = Psi(10, 2.5); },
       {"memory-pressure"},
       "memory pressure: some avg10 10.0%, full avg10 2.5%"},
      {"memory full at oomd's limit, read before",
       [](Indicators& b, Indicators&) { b.memory = Psi(5, 60); },
       {"memory-pressure"},
       "memory pressure: some avg10 5.0%, full avg10 60.0% (at or past systemd-oomd's default "
       "limit of 60%)"},
      {"cpu some 40%",
       [](Indicators&, Indicators& a) { a.cpu = Psi(40); },
       {"cpu-pressure"},
       "cpu pressure: some avg10 40.0%"},
      {"cpu some 39%", [](Indicators&, Indicators& a) { a.cpu = Psi(39); }, {}, ""},
      {"io full 20%",
       [](Indicators&, Indicators& a) { a.io = Psi(50, 20); },
       {"io-pressure"},
       "io pressure: some avg10 50.0%, full avg10 20.0%"},
      {"io some alone is waiting, not stalling",
       [](Indicators&, Indicators& a) { a.io = Psi(50, 5); },
       {},
       ""},
      {"load above twice the CPUs",
       [](Indicators&, Indicators& a) {
         a.load1 = 4.5;
         a.procs_running = 6;
       },
       {"run-queue"},
       "load 4.50 on 2 CPUs (6 running now)"},
      {"load at twice the CPUs", [](Indicators&, Indicators& a) { a.load1 = 4; }, {}, ""},
      {"256 pages swapped in",
       [](Indicators& b, Indicators& a) {
         b.swap_in_pages = 100;
         a.swap_in_pages = 356;
       },
       {"swap-in"},
       "256 pages swapped in over 10.0 s"},
      {"forks at 100 a second",
       [](Indicators&, Indicators& a) { a.forks = 1000 + 1000; },
       {"fork-rate"},
       "1000 processes started in 10.0 s (100 a second)"},
      {"forks at 99 a second", [](Indicators&, Indicators& a) { a.forks = 1000 + 990; }, {}, ""},
      {"a watcher logging in through the agent every second",
       [](Indicators&, Indicators& a) { a.agent_sessions = 20; },
       {"session-rate"},
       "10 new agent sessions in 10.0 s (60 a minute): a session storm"},
      {"logins through logind",
       [](Indicators&, Indicators& a) { a.logind_last_id = 45; },
       {"session-rate"},
       "5 new login (systemd-logind) sessions in 10.0 s (30 a minute): a session storm"},
      {"two new sessions are not a storm",
       [](Indicators&, Indicators& a) { a.agent_sessions = 12; },
       {},
       ""},
      {"one process holding 400 sockets in CLOSE_WAIT",
       [](Indicators&, Indicators& a) {
         a.close_wait = 403;
         a.close_wait_owners = {{4242, "stuck-client", 400}, {77, "sshd", 3}};
       },
       {"close-wait"},
       "pid 4242 (stuck-client) holds 400 sockets in CLOSE_WAIT: it does not close what its peers "
       "closed"},
      {"CLOSE_WAIT sockets whose owner could not be read",
       [](Indicators&, Indicators& a) { a.close_wait = 150; },
       {"close-wait"},
       "150 sockets in CLOSE_WAIT (their owners could not be read)"},
      {"the ephemeral port range 80% used",
       [](Indicators&, Indicators& a) { a.ephemeral_in_use = 22586; },
       {"ephemeral-ports"},
       "22586 of 28232 ephemeral ports in use (80%): new outgoing connections will fail"},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    Indicators before = Calm(), after = Calm();
    row.change(before, after);
    std::vector<Finding> f = ReadFindings(Window("primary", before, after));
    CHECK(Kinds(f) == row.kinds);
    if (!f.empty()) {
      CHECK(f[0].what == row.what);
      CHECK(f[0].host == "primary");
      CHECK(f[0].bearing == Bearing::kContext);
    }
  }
}

TEST_CASE("findings: rates need two readings a second or more apart", "[findings]") {
  Indicators before = Calm(), after = Calm();
  after.forks = before.forks + 500;
  after.agent_sessions = *before.agent_sessions + 30;
  CHECK(ReadFindings(Window("standby", before, after, 0.5)).empty());
  HostWindow only_after = Window("standby", before, after);
  only_after.before.reset();
  CHECK(ReadFindings(only_after).empty());
  // A counter that went back (an agent restarted) is no rate.
  after.agent_sessions = 2;
  after.forks = 10;
  CHECK(ReadFindings(Window("standby", before, after)).empty());
}

TEST_CASE("findings: a host whose indicators could not be read says so", "[findings]") {
  HostWindow w;
  w.host = "primary";
  w.unread = "the primary's agent is not reachable: refused";
  std::vector<Finding> f = ReadFindings(w);
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == "unread");
  CHECK(f[0].what == "indicators not read: the primary's agent is not reachable: refused");
  // Unread is never support: a degraded primary stays unexplained.
  Weigh(Verdict::kPrimaryDegraded, &f);
  CHECK(f[0].bearing == Bearing::kContext);
  CHECK_FALSE(AnyOn(f, "primary"));
}

TEST_CASE("findings: stress on the slower host supports, on the faster contradicts", "[findings]") {
  const std::vector<Finding> found = {{"primary", "memory-pressure", "m", Bearing::kContext},
                                      {"standby", "fork-rate", "f", Bearing::kContext}};
  struct Row {
    Verdict verdict;
    Bearing primary, standby;
  } rows[] = {
      {Verdict::kStandbySlower, Bearing::kContradicts, Bearing::kSupports},
      {Verdict::kPrimaryDegraded, Bearing::kSupports, Bearing::kContradicts},
      {Verdict::kEquivalent, Bearing::kContradicts, Bearing::kContradicts},
      {Verdict::kInconclusive, Bearing::kContext, Bearing::kContext},
  };
  for (const Row& row : rows) {
    INFO(VerdictName(row.verdict));
    std::vector<Finding> f = found;
    Weigh(row.verdict, &f);
    CHECK(f[0].bearing == row.primary);
    CHECK(f[1].bearing == row.standby);
  }
  CHECK(BearingName(Bearing::kSupports) == "supports");
}

TEST_CASE("findings: the stop rules are stricter than the findings'", "[findings]") {
  Indicators busy = Calm();
  busy.cpu = Psi(50);
  busy.load1 = 5;
  CHECK(Kinds(ReadFindings(Window("primary", busy, busy))) ==
        std::vector<std::string>{"cpu-pressure", "run-queue"});
  CHECK(ReadFindings(Window("primary", busy, busy), StopRules()).empty());
  busy.cpu = Psi(85);
  CHECK(Kinds(ReadFindings(Window("primary", busy, busy), StopRules())) ==
        std::vector<std::string>{"cpu-pressure"});
  std::optional<Finding> stop = StressStop("primary", busy);
  REQUIRE(stop.has_value());
  CHECK(stop->what == "cpu pressure: some avg10 85.0%");
  // Sockets and ports are findings, not load: they stop nothing.
  Indicators stuck = Calm();
  stuck.close_wait = 400;
  stuck.close_wait_owners = {{4242, "stuck-client", 400}};
  stuck.ephemeral_in_use = 28000;
  CHECK(Kinds(ReadFindings(Window("primary", stuck, stuck), StopRules())) ==
        std::vector<std::string>{"close-wait", "ephemeral-ports"});
  CHECK_FALSE(StressStop("primary", stuck).has_value());
}

}  // namespace
}  // namespace sb::drill
