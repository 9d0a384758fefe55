#include "standby/store/state_store.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <catch2/catch.hpp>

#include "standby/store/schema.h"
#include "tests/support/query.h"
#include "tests/support/temp_dir.h"

namespace sb::store {
namespace {

using sb::testing::QueryText;  // an independent look at what the store wrote
using sb::testing::ReadWholeFile;
using sb::testing::TempDir;

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

DrillStart Start(const std::string& standby, int64_t wall_ms) {
  DrillStart s;
  s.standby = standby;
  s.controller_pid = 42;
  s.controller_boot_id = "boot-1";
  s.at = {wall_ms, wall_ms * 1'000'000};
  return s;
}

TEST_CASE("store: a new store is at the current schema, in WAL mode", "[store]") {
  TempDir dir;
  std::string path = StateStore::PathIn(dir.path());
  base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->schema_version() == CurrentSchemaVersion());
  CHECK(QueryText(path, "PRAGMA journal_mode") == "wal");
  CHECK(QueryText(path, "PRAGMA user_version") == std::to_string(CurrentSchemaVersion()));
}

TEST_CASE("store: a drill's record, phases and details round-trip", "[store]") {
  TempDir dir;
  auto store = std::move(*StateStore::Open(StateStore::PathIn(dir.path())));
  DrillStart start = Start("web1-standby", 1'700'000'000'000);
  start.config_digest = "digest-of-web1";
  base::Result<int64_t> id = store->BeginDrill(start);
  REQUIRE(id.ok());
  base::Result<int64_t> boot = store->BeginPhase(*id, "boot", {1'700'000'001'000, 5});
  REQUIRE(boot.ok());
  REQUIRE(store->EndPhase(*boot, PhaseOutcome::kPassed, "", {1'700'000'090'000, 9}).ok());
  base::Result<int64_t> smoke = store->BeginPhase(*id, "smoke", {1'700'000'091'000, 10});
  REQUIRE(smoke.ok());
  REQUIRE(store->EndPhase(*smoke, PhaseOutcome::kFailed, "homepage: 503", {1'700'000'092'000, 11})
              .ok());
  REQUIRE(store
              ->AddCheckResult(
                  *id, {"homepage", "http", CheckOutcome::kFailed, 12, "503", 1'700'000'092'000})
              .ok());
  REQUIRE(store
              ->AddCheckResult(*id, {"names", "dns", CheckOutcome::kPassed, 3, "TTL 1m",
                                     1'700'000'092'500, R"({"max_ttl_s":60})"})
              .ok());
  REQUIRE(store->AddPerfSample(*id, {"p", "primary", 0, 1500, "", 1}).ok());
  REQUIRE(store->AddPerfSample(*id, {"p", "standby", 0, std::nullopt, "timeout", 2}).ok());
  RestoreStatsRecord stats;
  stats.drill_id = *id;
  stats.standby = "web1-standby";
  stats.source = "/b";
  stats.target = "/srv";
  stats.files_changed = 7;
  REQUIRE(store->AddRestoreStats(stats).ok());
  REQUIRE(store->AddEvent(*id, "warn", "drift found", 3).ok());
  REQUIRE(store->AddEvent(std::nullopt, "info", "daemon started", 4).ok());

  DrillOutcome outcome;
  outcome.result = DrillResult::kFailed;
  outcome.failed_phase = "smoke";
  outcome.reason = "homepage: 503";
  outcome.at = {1'700'000'100'000, 12};
  outcome.exposure_ms = 100'000;
  outcome.primary_connections = 2;
  outcome.dns_ttl_ms = 60'000;
  outcome.effective_failover_ms = 95'000;
  REQUIRE(store->FinishDrill(*id, outcome).ok());

  base::Result<std::vector<DrillRecord>> drills = store->ListDrills({});
  REQUIRE(drills.ok());
  REQUIRE(drills->size() == 1);
  const DrillRecord& d = (*drills)[0];
  CHECK(d.start.standby == "web1-standby");
  CHECK(d.outcome.result == DrillResult::kFailed);
  CHECK(d.outcome.failed_phase == "smoke");
  CHECK(d.outcome.exposure_ms == 100'000);
  CHECK_FALSE(d.outcome.rto_ms.has_value());
  CHECK(d.outcome.primary_connections == 2);
  CHECK(d.outcome.dns_ttl_ms == 60'000);
  CHECK(d.outcome.effective_failover_ms == 95'000);
  REQUIRE(d.finished.has_value());
  CHECK(d.finished->wall_ms == 1'700'000'100'000);

  base::Result<std::vector<PhaseRecord>> phases = store->ListPhases(*id);
  REQUIRE(phases.ok());
  REQUIRE(phases->size() == 2);
  CHECK((*phases)[0].name == "boot");
  CHECK((*phases)[1].outcome == PhaseOutcome::kFailed);
  CHECK((*phases)[1].reason == "homepage: 503");
  base::Result<std::vector<CheckResultRecord>> checks = store->ListCheckResults(*id);
  REQUIRE(checks.ok());
  REQUIRE(checks->size() == 2);
  CHECK((*checks)[0].measured == "{}");
  CHECK((*checks)[1].kind == "dns");
  CHECK((*checks)[1].measured == R"({"max_ttl_s":60})");
  CHECK(QueryText(store->path(), "SELECT count(*) FROM perf_samples WHERE latency_us IS NULL") ==
        "1");
  CHECK(QueryText(store->path(), "SELECT files_changed FROM restore_stats") == "7");
  auto restores = store->ListRestoreStats(*id);
  REQUIRE(restores.ok());
  REQUIRE(restores->size() == 1);
  CHECK((*restores)[0].files_changed == 7);
  CHECK((*restores)[0].target == "/srv");
  CHECK_FALSE((*restores)[0].oldest_reread_passes);
  CHECK(d.start.config_digest == "digest-of-web1");
  // --since: drills started before are left out.
  DrillQuery later;
  later.since_wall_ms = 1'700'000'000'001;
  CHECK(store->ListDrills(later)->empty());
}

TEST_CASE("store: drills list newest first and filter by standby", "[store]") {
  TempDir dir;
  auto store = std::move(*StateStore::Open(StateStore::PathIn(dir.path())));
  REQUIRE(store->BeginDrill(Start("a", 1000)).ok());
  REQUIRE(store->BeginDrill(Start("b", 3000)).ok());
  REQUIRE(store->BeginDrill(Start("a", 2000)).ok());
  auto all = store->ListDrills({});
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].start.at.wall_ms == 3000);
  CHECK((*all)[2].start.at.wall_ms == 1000);
  auto only_a = store->ListDrills({"a", 1});
  REQUIRE(only_a.ok());
  REQUIRE(only_a->size() == 1);
  CHECK((*only_a)[0].start.at.wall_ms == 2000);
  CHECK((*only_a)[0].outcome.result == DrillResult::kRunning);
}

TEST_CASE("store: writes that break references are refused", "[store]") {
  TempDir dir;
  auto store = std::move(*StateStore::Open(StateStore::PathIn(dir.path())));
  CHECK(store->FinishDrill(99, DrillOutcome()).code() == base::Code::kNotFound);
  base::Status s = store->AddCheckResult(99, {"c", "http", CheckOutcome::kPassed, 1, "", 1});
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("FOREIGN KEY") != std::string::npos);
}

// Data valid at each schema version, written before upgrading from it. A new
// migration needs a new row here (the test below insists).
// A store with one drill of every kind of record, from version 6 on.
const char* const kWithDrift =
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);"
    "INSERT INTO schedule_state (name, cron, timezone, next_base_wall_ms, next_due_wall_ms) "
    "VALUES ('monthly', '@monthly', 'UTC', 1000, 2000);"
    "INSERT INTO holds (drill_id, standby, until_wall_ms) VALUES (1, 'old', 9000);"
    "INSERT INTO check_results (drill_id, name, kind, outcome, duration_ms, at_wall_ms) "
    "VALUES (1, 'homepage', 'http', 'passed', 12, 1500);"
    "INSERT INTO perf_samples (drill_id, probe, host, seq, latency_us, at_wall_ms) VALUES "
    "(1, 'home', 'primary', 0, 900, 1600), (1, 'home', 'primary', 1, 1100, 1700), "
    "(1, 'home', 'standby', 0, 5000, 1600), (1, 'home', 'primary', 2, NULL, 1800);"
    "INSERT INTO restore_stats (drill_id, standby, source, target, drift_count, at_wall_ms) "
    "VALUES (1, 'old', '/backup', '/srv', 2, 1700);"
    "INSERT INTO drift (drill_id, standby, target, kind, path, detail, at_wall_ms) VALUES "
    "(1, 'old', '/srv', 'planted', 'x', '', 1700), (1, 'old', '/srv', 'modified', 'y', '', "
    "1700);";

const char* const kFixtureAtVersion[] = {
    // 0: an empty database file
    "",
    // 1
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);",
    // 2
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);"
    "INSERT INTO schedule_state (name, cron, timezone, next_base_wall_ms, next_due_wall_ms) "
    "VALUES ('monthly', '@monthly', 'UTC', 1000, 2000);",
    // 3
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);"
    "INSERT INTO schedule_state (name, cron, timezone, next_base_wall_ms, next_due_wall_ms) "
    "VALUES ('monthly', '@monthly', 'UTC', 1000, 2000);"
    "INSERT INTO holds (drill_id, standby, until_wall_ms) VALUES (1, 'old', 9000);"
    "INSERT INTO check_results (drill_id, name, kind, outcome, duration_ms, at_wall_ms) "
    "VALUES (1, 'homepage', 'http', 'passed', 12, 1500);",
    // 4: with the primary's samples, which a later drill compares with
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);"
    "INSERT INTO schedule_state (name, cron, timezone, next_base_wall_ms, next_due_wall_ms) "
    "VALUES ('monthly', '@monthly', 'UTC', 1000, 2000);"
    "INSERT INTO holds (drill_id, standby, until_wall_ms) VALUES (1, 'old', 9000);"
    "INSERT INTO check_results (drill_id, name, kind, outcome, duration_ms, at_wall_ms) "
    "VALUES (1, 'homepage', 'http', 'passed', 12, 1500);"
    "INSERT INTO perf_samples (drill_id, probe, host, seq, latency_us, at_wall_ms) VALUES "
    "(1, 'home', 'primary', 0, 900, 1600), (1, 'home', 'primary', 1, 1100, 1700), "
    "(1, 'home', 'standby', 0, 5000, 1600), (1, 'home', 'primary', 2, NULL, 1800);",
    // 5: with restore statistics from before the re-read columns
    "INSERT INTO drills (standby, kind, trigger, controller_pid, controller_boot_id, "
    "started_wall_ms, started_mono_ns, result, rto_ms) VALUES ('old', 'drill', 'manual', 1, "
    "'b', 1000, 1, 'passed', 360000);"
    "INSERT INTO schedule_state (name, cron, timezone, next_base_wall_ms, next_due_wall_ms) "
    "VALUES ('monthly', '@monthly', 'UTC', 1000, 2000);"
    "INSERT INTO holds (drill_id, standby, until_wall_ms) VALUES (1, 'old', 9000);"
    "INSERT INTO check_results (drill_id, name, kind, outcome, duration_ms, at_wall_ms) "
    "VALUES (1, 'homepage', 'http', 'passed', 12, 1500);"
    "INSERT INTO perf_samples (drill_id, probe, host, seq, latency_us, at_wall_ms) VALUES "
    "(1, 'home', 'primary', 0, 900, 1600), (1, 'home', 'primary', 1, 1100, 1700), "
    "(1, 'home', 'standby', 0, 5000, 1600), (1, 'home', 'primary', 2, NULL, 1800);"
    "INSERT INTO restore_stats (drill_id, standby, source, target, drift_count, at_wall_ms) "
    "VALUES (1, 'old', '/backup', '/srv', 2, 1700);",
    // 6: with drift from before the configuration digests and probe verdicts
    kWithDrift,
    // 7: the same, before holds had a limit
    kWithDrift,
    // 8 (the current version: not an upgrade's start)
    "",
};

TEST_CASE("store: every earlier schema version upgrades and keeps its data", "[store]") {
  REQUIRE(std::size(kFixtureAtVersion) == static_cast<size_t>(CurrentSchemaVersion()) + 1);
  for (int from = 0; from < CurrentSchemaVersion(); ++from) {
    DYNAMIC_SECTION("from version " << from) {
      TempDir dir;
      std::string path = StateStore::PathIn(dir.path());
      StateStore::Options old;
      old.target_version = from;
      {
        base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path, old);
        REQUIRE(store.ok());
        CHECK((*store)->schema_version() == from);
      }
      if (*kFixtureAtVersion[from] != '\0') Exec(path, kFixtureAtVersion[from]);

      base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
      REQUIRE(store.ok());
      CHECK((*store)->schema_version() == CurrentSchemaVersion());
      auto drills = (*store)->ListDrills({});
      REQUIRE(drills.ok());
      if (from >= 1) {
        REQUIRE(drills->size() == 1);
        CHECK((*drills)[0].start.standby == "old");
        CHECK((*drills)[0].outcome.rto_ms == 360000);
      }
      if (from >= 2) {
        auto states = (*store)->ListScheduleStates();
        REQUIRE(states.ok());
        REQUIRE(states->size() == 1);
        CHECK((*states)[0].next_due_wall_ms == 2000);
      }
      if (from >= 3) {
        auto checks = (*store)->ListCheckResults(1);
        REQUIRE(checks.ok());
        REQUIRE(checks->size() == 1);
        CHECK((*checks)[0].measured == "{}");  // the new column's default
      }
      if (from >= 4) {
        // The primary's answered samples of earlier passed drills.
        auto h = (*store)->PerfHistory("old", "home", "primary", 2, 5);
        REQUIRE(h.ok());
        CHECK(h->latencies_us == std::vector<int64_t>{900, 1100});
        CHECK(h->drills == 1);
      }
      if (from >= 5) {
        CHECK(QueryText(path,
                        "SELECT drift_count || ' ' || corrupt_count || ' ' || bytes_reread "
                        "|| ' ' || ifnull(oldest_reread_passes, 'null') FROM "
                        "restore_stats") == "2 0 0 null");
      }
      if (from >= 6) {
        auto counts = (*store)->CountDrift(1);
        REQUIRE(counts.ok());
        CHECK(*counts ==
              std::vector<std::pair<std::string, int64_t>>{{"modified", 1}, {"planted", 1}});
      }
      if (from >= 1) {
        CHECK((*drills)[0].start.config_digest.empty());  // the new column's default
      }
      if (from >= 3) {
        auto hold = (*store)->GetHold(1);
        REQUIRE(hold.ok());
        CHECK(hold->until_wall_ms == 9000);
        CHECK_FALSE(hold->limit_wall_ms.has_value());  // no limit recorded before max_hold
      }
      // And the upgraded store takes new records.
      base::Result<int64_t> id = (*store)->BeginDrill(Start("new", 5000));
      REQUIRE(id.ok());
      CHECK((*store)
                ->AddDrift({{*id, "new", "/srv", "planted", "cron.d/evil", "file, 40 B", 5002},
                            {*id, "new", "/srv", "corrupt", "db/a", "read back", 5002}})
                .ok());
      auto drift = (*store)->ListDrift(*id);
      REQUIRE(drift.ok());
      REQUIRE(drift->size() == 2);
      CHECK((*drift)[0].path == "cron.d/evil");
      CHECK((*drift)[1].kind == "corrupt");
      // A kind the schema does not know is refused.
      CHECK_FALSE((*store)->AddDrift({{*id, "new", "/srv", "weird", "x", "", 1}}).ok());
      CHECK((*store)->AddIndicators(*id, {"primary", "before", "{}", 5001}).ok());
      CHECK((*store)
                ->AddFinding(*id, {"home", "standby-slower", "standby", "swap-in", "supports",
                                   "512 pages swapped in over 9.0 s"})
                .ok());
      auto findings = (*store)->ListFindings(*id);
      REQUIRE(findings.ok());
      REQUIRE(findings->size() == 1);
      CHECK((*findings)[0].detail == "512 pages swapped in over 9.0 s");
      auto readings = (*store)->ListIndicators(*id);
      REQUIRE(readings.ok());
      REQUIRE(readings->size() == 1);
      CHECK((*readings)[0].moment == "before");
      store::ProbeResultRecord verdict;
      verdict.probe = "home";
      verdict.verdict = "standby-slower";
      verdict.primary_median_us = 1000;
      verdict.ratio = 3.2;
      verdict.detail = "3.2x";
      CHECK((*store)->AddProbeResult(*id, verdict).ok());
      auto verdicts = (*store)->ListProbeResults(*id);
      REQUIRE(verdicts.ok());
      REQUIRE(verdicts->size() == 1);
      CHECK((*verdicts)[0].ratio == 3.2);
      CHECK_FALSE((*verdicts)[0].standby_median_us);
      CHECK_FALSE((*verdicts)[0].ratio_low);
    }
  }
}

TEST_CASE("store: the primary's history holds only its answered samples of earlier passed drills",
          "[store]") {
  TempDir dir;
  base::Result<std::unique_ptr<StateStore>> opened =
      StateStore::Open(StateStore::PathIn(dir.path()));
  REQUIRE(opened.ok());
  StateStore& store = **opened;
  auto drill = [&](const char* standby, DrillResult result, int64_t latency_us) {
    base::Result<int64_t> id = store.BeginDrill(Start(standby, 1000));
    REQUIRE(id.ok());
    PerfSampleRecord p;
    p.probe = "home";
    p.host = "primary";
    p.latency_us = latency_us;
    REQUIRE(store.AddPerfSample(*id, p).ok());
    p.probe = "other";
    REQUIRE(store.AddPerfSample(*id, p).ok());
    p.probe = "home";
    p.latency_us.reset();  // a failed request
    p.error = "status 500";
    REQUIRE(store.AddPerfSample(*id, p).ok());
    DrillOutcome o;
    o.result = result;
    REQUIRE(store.FinishDrill(*id, o).ok());
    return *id;
  };
  drill("web1-standby", DrillResult::kPassed, 100);
  drill("web1-standby", DrillResult::kFailed, 200);  // not a reference
  drill("db-standby", DrillResult::kPassed, 300);    // another standby's
  drill("web1-standby", DrillResult::kPassed, 400);
  drill("web1-standby", DrillResult::kPassed, 500);
  const int64_t now = drill("web1-standby", DrillResult::kPassed, 600);

  auto h = store.PerfHistory("web1-standby", "home", "primary", now, 2);
  REQUIRE(h.ok());
  CHECK(h->latencies_us == std::vector<int64_t>{400, 500});  // the last two, not this one
  CHECK(h->drills == 2);
  h = store.PerfHistory("web1-standby", "home", "standby", now, 5);
  REQUIRE(h.ok());
  CHECK(h->latencies_us.empty());
  CHECK(h->drills == 0);
}

TEST_CASE("store: a store from a newer standbyctl is refused and left untouched", "[store]") {
  TempDir dir;
  std::string path = StateStore::PathIn(dir.path());
  { REQUIRE(StateStore::Open(path).ok()); }
  Exec(path, "PRAGMA user_version = " + std::to_string(CurrentSchemaVersion() + 5));
  std::string before = ReadWholeFile(path);
  base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == base::Code::kFailedPrecondition);
  CHECK(store.status().message().find("newer than this standbyctl knows") != std::string::npos);
  CHECK(ReadWholeFile(path) == before);
}

TEST_CASE("store: a corrupt file gives a clear error and is not overwritten", "[store]") {
  TempDir dir;
  std::string garbage(8192, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 7 + 3);
  std::string path = dir.Write("state.db", garbage, 0600);
  base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == base::Code::kCorruption);
  CHECK(store.status().message() ==
        "state store " + path +
            " is not a usable SQLite database (file is not a database); it "
            "was left untouched: move it aside to start a new store, or restore it from a backup");
  CHECK(ReadWholeFile(path) == garbage);
}

TEST_CASE("store: two processes writing at once both succeed", "[store]") {
  TempDir dir;
  std::string path = StateStore::PathIn(dir.path());
  constexpr int kDrillsPerProcess = 150;
  pid_t children[2];
  for (pid_t& child : children) {
    child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // Each child opens its own store, racing the other one to create it.
      int failures = 0;
      base::Result<std::unique_ptr<StateStore>> store = StateStore::Open(path);
      if (!store.ok()) {
        std::fprintf(stderr, "child: %s\n", store.status().message().c_str());
        ::_exit(100);
      }
      for (int i = 0; i < kDrillsPerProcess; ++i) {
        base::Result<int64_t> id = (*store)->BeginDrill(Start("s", 1000 + i));
        if (!id.ok()) {
          ++failures;
          continue;
        }
        if (!(*store)->AddEvent(*id, "info", "x", i).ok()) ++failures;
        if (!(*store)->FinishDrill(*id, DrillOutcome()).ok()) ++failures;
      }
      ::_exit(failures == 0 ? 0 : 1);
    }
  }
  for (pid_t child : children) {
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(QueryText(path, "SELECT count(*) FROM drills WHERE result = 'passed'") ==
        std::to_string(2 * kDrillsPerProcess));
  CHECK(QueryText(path, "SELECT count(*) FROM events") == std::to_string(2 * kDrillsPerProcess));
}

}  // namespace
}  // namespace sb::store
