// The comparison on real services: python3's http.server on loopback
// (tests/support/web_server.py), one side with an injected delay, probed
// through the drill's own libcurl requesters; the rest of the drill runs on
// fakes. Many trials each, because a verdict must hold nearly always and a
// false alarm must not happen: 20 trials of a standby 3x slower, 50 of two
// identical services, on whatever load this machine has.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "standby/drill/live_ports.h"
#include "tests/support/background_process.h"
#include "tests/support/drill_rig.h"
#include "tests/support/web_server.h"

namespace sb::drill {
namespace {

using sb::testing::DrillRig;
using sb::testing::TempDir;
using sb::testing::WebServer;

struct Services {
  TempDir dir;
  int primary_port = sb::testing::FreePort();
  int standby_port = sb::testing::FreePort();
  std::unique_ptr<WebServer> primary, standby;

  Services(int primary_delay_ms, int standby_delay_ms, bool keep_alive = true) {
    dir.Write("www/index.html", std::string(2000, 'x'));
    primary = std::make_unique<WebServer>(dir, "127.0.0.1", primary_port, dir.Sub("www"), "primary",
                                          WebServer::Options{primary_delay_ms, keep_alive});
    standby = std::make_unique<WebServer>(dir, "127.0.0.1", standby_port, dir.Sub("www"), "standby",
                                          WebServer::Options{standby_delay_ms, keep_alive});
  }
};

ProbeSummary Trial(const Services& services, int max_sessions = 4) {
  DrillRig rig;
  CurlRequesters curl;
  rig.live_probes = &curl;
  rig.config.primary->max_sessions = max_sessions;
  config::PerformanceProbe& probe = rig.sc().probes[0];
  probe.primary_url = fmt::format("http://127.0.0.1:{}/index.html", services.primary_port);
  probe.standby_url = fmt::format("http://127.0.0.1:{}/index.html", services.standby_port);
  probe.requests = 20;
  const DrillSummary s = rig.Run();
  REQUIRE(s.probes.size() == 1);
  return s.probes[0];
}

TEST_CASE("comparison trials: a standby 3x slower is standby-slower nearly always",
          "[compare][trials]") {
  Services services(5, 15);
  int slower = 0;
  std::vector<std::string> others;
  for (int trial = 0; trial < 20; ++trial) {
    ProbeSummary p = Trial(services);
    if (p.decision == Verdict::kStandbySlower) {
      ++slower;
      REQUIRE(p.comparison->ratio.has_value());
      CHECK(p.comparison->ratio->low > 1.5);  // the interval comes with the verdict
      CHECK(p.comparison->standby.n == 20);
      CHECK(p.comparison->primary.n == 20);
    } else {
      others.push_back(p.verdict);
    }
  }
  INFO(fmt::format("{}", fmt::join(others, "\n")));
  CHECK(slower >= 19);
}

// Two services as alike as one machine can make them, 50 trials: no
// standby-slower and no primary-degraded, and only a few trials too noisy
// to call. At 5 ms a request the ratio's interval decides; with no delay
// (a few hundred microseconds) the two server processes can differ by 2x
// in a trial, as the scheduler places them, and min_difference (1 ms) is
// what keeps such a difference from becoming a verdict.
TEST_CASE("comparison trials: two identical services give no false alarm in 50 trials",
          "[compare][trials]") {
  for (const int delay_ms : {5, 0}) {
    INFO("each service answers after " << delay_ms << " ms");
    Services services(delay_ms, delay_ms);
    int equivalent = 0, inconclusive = 0;
    std::vector<std::string> alarms, unsure;
    for (int trial = 0; trial < 50; ++trial) {
      ProbeSummary p = Trial(services);
      if (p.decision == Verdict::kEquivalent) ++equivalent;
      if (p.decision == Verdict::kInconclusive) {
        ++inconclusive;
        unsure.push_back(p.verdict);
      }
      if (p.decision == Verdict::kStandbySlower || p.decision == Verdict::kPrimaryDegraded) {
        alarms.push_back(p.verdict);
      }
    }
    INFO(fmt::format("false alarms:\n{}\ninconclusive:\n{}", fmt::join(alarms, "\n"),
                     fmt::join(unsure, "\n")));
    CHECK(alarms.empty());
    CHECK(equivalent + inconclusive == 50);
    CHECK(inconclusive <= 10);
  }
}

}  // namespace
}  // namespace sb::drill
