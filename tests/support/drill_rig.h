// Test support: a drill on fakes (drill_fakes.h), set up as the drill's
// tests start from: a primary "web1" with a session cap of 4, a standby
// "web1-standby" with one restore mapping whose canary is three hours old,
// two smoke checks and one probe of 5 requests, and a store in a temporary
// directory. Tests change what they need and Run().
#ifndef TESTS_SUPPORT_DRILL_RIG_H_
#define TESTS_SUPPORT_DRILL_RIG_H_

#include <atomic>
#include <memory>

#include <catch2/catch.hpp>

#include "standby/drill/drill.h"
#include "tests/support/drill_fakes.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

// 2026-11-30T21:00:00Z: three hours before the fake clock starts.
inline constexpr const char* kBackupTime = "2026-11-30T21:00:00Z";
inline constexpr int64_t kThreeHoursMs = int64_t{3} * 3'600'000;

struct DrillRig {
  TempDir dir;
  FakeClock clock;
  FakeStandby standby;
  FakeDialer dialer{standby, clock, "standby.test"};
  FakeLease lease;
  FakeSmoke smoke;
  FakeProbes probes;
  config::Config config;
  std::unique_ptr<store::StateStore> store;
  std::atomic<int> stop{0};
  drill::DrillOptions options;

  DrillRig() {
    dir.Write("backup/www/index.html", "hello\n");
    dir.Write("backup/www/.canary", kBackupTime);
    config.path = dir.Sub("standbyctl.toml");
    config.primary = config::PrimaryConfig{"web1", {"primary.test", 7443}, "web1", 4};
    config::StandbyConfig s;
    s.name = "web1-standby";
    s.agent = {"standby.test", 7443};
    s.agent_name = "web1-standby";
    config::RestoreMapping m;
    m.source = dir.Sub("backup/www");
    m.target = "/srv/www";
    m.canary = ".canary";
    s.restores = {m};
    config::SmokeCheck home;
    home.name = "home";
    home.http.url = "http://standby.test/";
    config::SmokeCheck db;
    db.name = "db";
    db.kind = config::CheckKind::kCommand;
    db.command = "db-check";
    s.checks = {home, db};
    config::PerformanceProbe probe;
    probe.name = "home";
    probe.primary_url = "http://primary.test/";
    probe.standby_url = "http://standby.test/";
    probe.requests = 5;
    probe.interval = std::chrono::milliseconds(200);
    s.probes = {probe};
    config.standbys = {s};
    base::Result<std::unique_ptr<store::StateStore>> opened =
        store::StateStore::Open(dir.Sub("state.db"));
    REQUIRE(opened.ok());
    store = std::move(*opened);
    options.stop = &stop;
  }

  config::StandbyConfig& sc() { return config.standbys[0]; }

  // The comparison's requests go to `live_probes` when set (real HTTP), else
  // to the fake.
  drill::ProbeRequester* live_probes = nullptr;

  drill::DrillEnv Env() {
    drill::ProbeRequester& p = live_probes != nullptr ? *live_probes : probes;
    return {config, sc(), *store, standby, standby, {clock, dialer, lease, smoke, p}};
  }

  drill::DrillSummary Run() {
    base::Result<drill::DrillSummary> s = drill::RunDrill(Env(), options);
    REQUIRE(s.ok());
    return *s;
  }

  store::DrillRecord Record(int64_t id) {
    base::Result<store::DrillRecord> r = store->GetDrill(id);
    REQUIRE(r.ok());
    return *r;
  }
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_DRILL_RIG_H_
