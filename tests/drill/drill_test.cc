// The drill's state machine on fakes (tests/support/drill_fakes.h): the
// phase order, every way out ending in the shutdown and confirmed off, the
// guard (a stop request, max_exposure on a fake clock), the prep's hold, the
// primary's session cap and the figures, with no sockets, no child
// processes and no real waiting. The real peers are in drill_e2e_test.cc.

#include "standby/drill/drill.h"

#include <csignal>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "agent/host/indicators.h"
#include "standby/drill/hold.h"
#include "tests/support/drill_fakes.h"
#include "tests/support/drill_rig.h"
#include "tests/support/query.h"
#include "tests/support/temp_dir.h"

namespace sb::drill {
namespace {

using sb::testing::FakeClock;
using sb::testing::FakeDialer;
using sb::testing::FakeLease;
using sb::testing::FakeProbes;
using sb::testing::FakeSmoke;
using sb::testing::FakeStandby;
using sb::testing::TempDir;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using store::PhaseOutcome;

using sb::testing::kBackupTime;
using sb::testing::kThreeHoursMs;
using Rig = sb::testing::DrillRig;

std::vector<std::string> Names(const DrillSummary& s) {
  std::vector<std::string> out;
  for (const PhaseView& p : s.phases) out.push_back(p.name);
  return out;
}

const PhaseView& Last(const DrillSummary& s) { return s.phases.back(); }

TEST_CASE("drill: a green drill runs every phase in order and ends confirmed off", "[drill]") {
  Rig rig;
  const DrillSummary s = rig.Run();
  CHECK(Names(s) == std::vector<std::string>(std::begin(kPhases), std::end(kPhases)));
  for (const PhaseView& p : s.phases) {
    INFO(p.name << ": " << p.reason);
    CHECK(p.outcome == PhaseOutcome::kPassed);
  }
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  CHECK(s.confirmed_off);
  CHECK_FALSE(rig.standby.on);
  CHECK(rig.standby.shutdowns == 1);
  CHECK(rig.standby.hard_offs == 0);
  CHECK(rig.lease.holder == "drill 1");
  CHECK_FALSE(rig.lease.renewing);
  CHECK(s.lease_renewals == 3);
  REQUIRE(s.checks.size() == 2);
  CHECK(s.checks[0].outcome == store::CheckOutcome::kPassed);
  REQUIRE(s.probes.size() == 1);
  // Five requests a side say nothing either way.
  CHECK(s.probes[0].verdict ==
        "inconclusive: fewer than 9 samples a side (primary 5, standby 5); medians 1500 us "
        "standby, 1000 us primary (n 5/5)");
  // One session to check the primary in preflight, one for its probe.
  CHECK(s.outcome.primary_connections == 2);
  // Hello; Ping and two Indicators readings through the preflight's session,
  // two warm-up requests, five.
  CHECK(s.outcome.primary_requests == 1 + 3 + 2 + 5);
  // What was recorded is what was shown.
  const store::DrillRecord r = rig.Record(s.drill_id);
  CHECK(r.outcome.result == store::DrillResult::kPassed);
  CHECK(r.outcome.rto_ms == s.outcome.rto_ms);
  CHECK(r.outcome.exposure_ms == s.outcome.exposure_ms);
  CHECK(r.start.kind == "drill");
}

TEST_CASE("drill: RTO, boot, restore, RPO and exposure are measured on the drill's clock",
          "[drill]") {
  Rig rig;
  rig.dialer.boot_dials = 1;  // the first attempt times out after its 5 s
  rig.dialer.script.on_restore = [&] { rig.clock.Advance(seconds(30)); };
  const DrillSummary s = rig.Run();
  REQUIRE(s.outcome.result == store::DrillResult::kPassed);
  const store::DrillOutcome& o = s.outcome;
  REQUIRE(o.boot_ms);
  // 5 s of the failed attempt, then a backoff of 125 to 250 ms.
  CHECK(*o.boot_ms >= 5'125);
  CHECK(*o.boot_ms <= 5'250);
  CHECK(o.restore_ms == 30'000);
  // The smoke checks passed at once: RTO is power on to that moment.
  CHECK(o.rto_ms == *o.boot_ms + 30'000);
  // The comparison (2 warm-up and 5 counted rounds) waited 6 intervals of
  // 200 ms; the shutdown was at once.
  CHECK(o.exposure_ms == *o.rto_ms + 1'200);
  CHECK(o.exposure_ms == rig.clock.elapsed().count());
  // The canary says three hours before the clock's start.
  CHECK(o.rpo_ms == kThreeHoursMs + rig.clock.elapsed().count());
  CHECK(s.rpo_from == "canary .canary of " + rig.sc().restores[0].source);
}

TEST_CASE("drill: corruption at rest fails the restore phase by on_corrupt, drift is recorded",
          "[drill]") {
  const std::vector<sync::Drift> drift = {
      {sync::DriftKind::kCorrupt, "db/data.bin", "read back with other bytes"},
      {sync::DriftKind::kPlanted, "www/.hidden/shell.php", "file, 40 B"},
      {sync::DriftKind::kDeleted, "logs/a.log", "file, 2 B"}};
  Rig rig;
  rig.dialer.script.drift = drift;
  DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kFailed);
  CHECK(s.outcome.failed_phase == "restore");
  CHECK(s.outcome.reason.starts_with(
      "corruption at rest: 1 file read back from the standby's disk with other bytes than the "
      "last restore wrote (/srv/www/db/data.bin), repaired from the backup; on_corrupt = fail."));
  CHECK(s.outcome.reason.find("drift: 1 corrupt, 1 deleted, 1 planted") != std::string::npos);
  // Every path is in the store, with the drill's id.
  base::Result<std::vector<store::DriftRecord>> stored = rig.store->ListDrift(s.drill_id);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 3);
  CHECK((*stored)[0].path == "db/data.bin");
  CHECK((*stored)[0].kind == "corrupt");
  CHECK((*stored)[2].path == "www/.hidden/shell.php");
  CHECK((*stored)[2].target == "/srv/www");
  // The machine ended off, as after any failure.
  CHECK_FALSE(rig.standby.on);

  // on_corrupt = warn: the drill goes on and passes, the drift still named.
  Rig warn;
  warn.dialer.script.drift = drift;
  warn.sc().restores[0].fail_on_corrupt = false;
  s = warn.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  REQUIRE(s.restores.size() == 1);
  CHECK(s.restores[0].Corrupt() == 1);
}

TEST_CASE("drill: a refused BMC login powers on once, not three times", "[drill]") {
  Rig rig;
  rig.standby.login_refused = true;
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kFailed);
  CHECK(s.outcome.failed_phase == "power on");
  CHECK_THAT(s.outcome.reason, Catch::StartsWith("power on failed: fake BMC: login as"));
  CHECK(rig.standby.power_ons == 1);
}

TEST_CASE("drill: a failure in any phase goes to the shutdown and ends confirmed off", "[drill]") {
  struct Row {
    const char* phase;
    std::function<void(Rig&)> break_it;
    const char* reason_starts;
  } rows[] = {
      {"power on", [](Rig& r) { r.standby.failed_power_ons = 3; },
       "power on failed: fake BMC: no answer"},
      {"boot",
       [](Rig& r) {
         r.dialer.standby_never_answers = true;
         r.sc().boot_timeout = minutes(1);
       },
       "the agent did not answer within the boot_timeout of 1m"},
      {"lease", [](Rig& r) { r.lease.refuse = "held by drill 7"; },
       "the agent would not take the lease: held by drill 7"},
      {"restore", [](Rig& r) { r.dialer.script.restore_error = "no space left"; },
       "backup/www -> /srv/www: no space left"},
      {"smoke",
       [](Rig& r) {
         r.smoke.failing["db"] = -1;
         r.sc().smoke_timeout = minutes(1);
       },
       "1 of 2 checks did not pass within the smoke_timeout of 1m: db failed: fake: failed"},
      {"compare", [](Rig& r) { r.probes.standby_fails = true; },
       "home: inconclusive: the standby answered no request; 5 of 5 standby requests failed"},
      // An answer of a shape nothing checked: reading it throws, as
      // nlohmann::json does for a string where a boolean was expected.
      {"restore",
       [](Rig& r) {
         r.dialer.script.on_restore = [] {
           const nlohmann::json committed = "yes";
           (void)committed.get<bool>();
         };
       },
       "internal error: [json.exception.type_error.302] type must be boolean, but is string"},
  };
  for (const Row& row : rows) {
    INFO(row.phase);
    Rig rig;
    row.break_it(rig);
    const DrillSummary s = rig.Run();
    CHECK(s.outcome.result == store::DrillResult::kFailed);
    CHECK(s.outcome.failed_phase == row.phase);
    CHECK(s.outcome.reason.find(row.reason_starts) != std::string::npos);
    REQUIRE(s.phases.size() >= 2);
    CHECK(s.phases[s.phases.size() - 2].name == row.phase);
    CHECK(s.phases[s.phases.size() - 2].outcome == PhaseOutcome::kFailed);
    CHECK(Last(s).name == "shutdown");
    CHECK(Last(s).outcome == PhaseOutcome::kPassed);
    CHECK(s.confirmed_off);
    CHECK_FALSE(rig.standby.on);
    CHECK(s.outcome.exposure_ms);
    CHECK_FALSE(rig.lease.renewing);
    CHECK(rig.Record(s.drill_id).outcome.result == store::DrillResult::kFailed);
  }
}

TEST_CASE("drill: an exception between phases still fails the drill and shuts down", "[drill]") {
  Rig rig;
  // The phase observer (the live view) throws once the lease has passed:
  // no phase is open then, and the drill must not count as passed.
  rig.options.on_phase = [](const PhaseView& v) {
    if (v.name == "lease" && v.outcome == PhaseOutcome::kPassed) {
      throw std::runtime_error("the live view broke");
    }
  };
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kFailed);
  CHECK(s.outcome.failed_phase == "drill");
  CHECK(s.outcome.reason == "internal error: the live view broke");
  CHECK(Last(s).name == "shutdown");
  CHECK(s.confirmed_off);
  CHECK_FALSE(rig.standby.on);
  CHECK(rig.Record(s.drill_id).outcome.result == store::DrillResult::kFailed);
}

TEST_CASE("drill: a preflight failure never powers the standby on", "[drill]") {
  Rig rig;
  rig.dialer.primary_answers = false;
  const DrillSummary s = rig.Run();
  CHECK(Names(s) == std::vector<std::string>{"preflight"});
  CHECK(s.outcome.failed_phase == "preflight");
  CHECK(s.outcome.reason ==
        "the primary's agent is not reachable: fake primary: connection refused ([primary] "
        "required_for_drill = true)");
  CHECK(rig.standby.power_ons == 0);
  CHECK_FALSE(s.powered_on);
  CHECK_FALSE(s.outcome.exposure_ms);

  Rig on;
  on.standby.on = true;
  const DrillSummary busy = on.Run();
  CHECK(busy.outcome.failed_phase == "preflight");
  CHECK(busy.outcome.reason.find("the standby is already on (fake: on)") == 0);
  CHECK(on.standby.on);  // someone is using it: left alone
}

TEST_CASE(
    "drill: a stop request breaks a restore in progress, aborts the drill and still ends "
    "confirmed off",
    "[drill]") {
  Rig rig;
  rig.dialer.script.on_restore = [&] { rig.stop = SIGTERM; };
  rig.dialer.script.restore_blocks = true;  // until the guard breaks the session
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kAborted);
  CHECK(s.outcome.failed_phase == "restore");
  CHECK(s.outcome.reason.find("stopped by SIGTERM (") == 0);
  CHECK(s.outcome.reason.find("fake agent: interrupted") != std::string::npos);
  REQUIRE(s.phases.size() == 6);
  CHECK(s.phases[4].outcome == PhaseOutcome::kAborted);
  CHECK(Last(s).name == "shutdown");
  CHECK(s.confirmed_off);
  CHECK(rig.Record(s.drill_id).outcome.result == store::DrillResult::kAborted);

  // A stop between steps is seen at the next one.
  Rig later;
  later.dialer.script.on_restore = [&] { later.stop = SIGINT; };
  const DrillSummary l = later.Run();
  CHECK(l.outcome.result == store::DrillResult::kAborted);
  CHECK(l.outcome.failed_phase == "smoke");
  CHECK(l.outcome.reason == "stopped by SIGINT");
  CHECK(l.checks.empty());
  CHECK(l.confirmed_off);
}

TEST_CASE("drill: max_exposure cuts a drill short on the drill's clock", "[drill]") {
  Rig rig;
  rig.dialer.standby_never_answers = true;
  rig.sc().boot_timeout = minutes(5);
  rig.sc().max_exposure = minutes(1);
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kFailed);
  CHECK(s.outcome.failed_phase == "boot");
  CHECK(s.outcome.reason.find("the standby's max_exposure of 1m was reached") == 0);
  CHECK(s.confirmed_off);
  // Cut at the deadline, not at the boot_timeout: one attempt and one
  // backoff past it at most.
  CHECK(rig.clock.elapsed() >= minutes(1));
  CHECK(rig.clock.elapsed() < minutes(1) + seconds(10));
}

TEST_CASE("drill: an agent that never answers is dialled a bounded number of times", "[drill]") {
  Rig rig;
  rig.dialer.standby_never_answers = true;
  rig.sc().boot_timeout = minutes(2);
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.failed_phase == "boot");
  CHECK(s.outcome.reason.find("last: fake standby: no answer") != std::string::npos);
  // Each attempt spends its 5 s connect timeout and a backoff of at most 4 s.
  CHECK(rig.dialer.standby_dials >= 120 / 9);
  CHECK(rig.dialer.standby_dials <= 120 / 5 + 1);
  CHECK(rig.clock.elapsed() <= minutes(2) + seconds(10));
}

TEST_CASE("drill: a smoke check failing at first is retried until it passes", "[drill]") {
  Rig rig;
  rig.smoke.failing["home"] = 2;
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  CHECK(rig.smoke.runs["home"] == 3);
  CHECK(rig.smoke.runs["db"] == 1);
  REQUIRE(s.checks.size() == 2);
  CHECK(s.checks[0].detail == "fake: passed (attempt 3)");
}

TEST_CASE("drill: a failure that trying again cannot fix is not retried", "[drill]") {
  Rig rig;
  rig.smoke.failing["db"] = -1;
  rig.smoke.permanent = {"db"};
  rig.smoke.failing["home"] = 1;  // transient: passes at its second attempt
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.failed_phase == "smoke");
  CHECK(s.outcome.reason == "1 of 2 checks did not pass: db failed: fake: failed");
  CHECK(rig.smoke.runs["db"] == 1);
  CHECK(rig.smoke.runs["home"] == 2);
  // No waiting for the smoke_timeout (5m): one backoff, for the retried check.
  CHECK(s.phases[5].duration_ms < 1'000);
}

TEST_CASE("drill: a check waits out its warm-up before its first run", "[drill]") {
  Rig rig;
  rig.sc().checks[1].warmup = seconds(20);
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  CHECK(rig.smoke.runs["db"] == 1);  // not run (and failed) during its warm-up
  const int64_t home = rig.smoke.first_run_wall_ms.at("home");
  const int64_t db = rig.smoke.first_run_wall_ms.at("db");
  CHECK(db - home >= 20'000);
  CHECK(db - home < 20'100);
  // The checks run on the standby's address; the primary's is there to compare.
  CHECK(rig.smoke.last_target.host == "standby.test");
  CHECK(rig.smoke.last_target.primary_host == "primary.test");
  REQUIRE(rig.smoke.last_target.restores.size() == 1);
}

TEST_CASE("drill: a check's connections to the primary count against the drill's cap", "[drill]") {
  Rig rig;
  rig.config.primary->max_sessions = 6;
  rig.smoke.primary_connections["home"] = 1;  // as same_as_primary does
  rig.smoke.failing["home"] = 2;
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  // Preflight's session left 5, then each attempt one less.
  CHECK(rig.smoke.primary_budgets == std::vector<int64_t>{5, 4, 3});
  // Preflight, three checks, one probe connection.
  CHECK(s.outcome.primary_connections == 1 + 3 + 1);
  CHECK(s.outcome.primary_requests == 1 + 3 + 3 + 2 + 5);
}

TEST_CASE("drill: a warm-up longer than smoke_timeout fails the check as not run", "[drill]") {
  Rig rig;
  rig.sc().smoke_timeout = seconds(30);
  rig.sc().checks[1].warmup = minutes(1);
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.failed_phase == "smoke");
  CHECK(rig.smoke.runs.count("db") == 0);
  CHECK(s.outcome.reason ==
        "1 of 2 checks did not pass within the smoke_timeout of 30s: db could not run: its "
        "warm-up of 1m was not over when the smoke_timeout of 30s ended");
}

TEST_CASE("drill: the effective failover time is the RTO plus the largest DNS TTL", "[drill]") {
  Rig rig;
  rig.smoke.ttl["home"] = seconds(60);
  rig.smoke.ttl["db"] = seconds(300);
  const DrillSummary s = rig.Run();
  REQUIRE(s.outcome.result == store::DrillResult::kPassed);
  CHECK(s.outcome.dns_ttl_ms == 300'000);
  REQUIRE(s.outcome.rto_ms);
  CHECK(s.outcome.effective_failover_ms == *s.outcome.rto_ms + 300'000);
  const store::DrillRecord r = rig.Record(s.drill_id);
  CHECK(r.outcome.dns_ttl_ms == 300'000);
  CHECK(r.outcome.effective_failover_ms == s.outcome.effective_failover_ms);

  // A TTL too long fails its check; the TTL is still recorded, the RTO not.
  Rig failing;
  failing.smoke.ttl["home"] = hours(4);
  failing.smoke.failing["home"] = -1;
  failing.smoke.permanent = {"home"};
  const DrillSummary f = failing.Run();
  CHECK(f.outcome.failed_phase == "smoke");
  CHECK(f.outcome.dns_ttl_ms == 14'400'000);
  CHECK_FALSE(f.outcome.effective_failover_ms.has_value());
  CHECK(failing.Record(f.drill_id).outcome.dns_ttl_ms == 14'400'000);
}

TEST_CASE("drill: a prep that passes is held, and its hold ends it confirmed off", "[drill]") {
  Rig rig;
  rig.options.kind = DrillKind::kPrep;
  const DrillSummary s = rig.Run();
  CHECK(s.held);
  CHECK(Names(s).back() == "compare");
  CHECK(rig.standby.on);
  CHECK_FALSE(rig.lease.renewing);  // the hold takes it over
  store::DrillRecord open = rig.Record(s.drill_id);
  CHECK(open.outcome.result == store::DrillResult::kRunning);
  CHECK(open.outcome.rto_ms == s.outcome.rto_ms);
  CHECK(open.outcome.rpo_ms == s.outcome.rpo_ms);
  CHECK(open.start.kind == "prep");

  store::HoldRecord hold;
  hold.drill_id = s.drill_id;
  hold.standby = "web1-standby";
  hold.until_wall_ms = rig.clock.Now().wall_ms + 3'600'000;
  REQUIRE(rig.store->AddHold(hold).ok());
  HoldOptions options;
  options.drill_id = s.drill_id;
  base::Result<HoldEnd> end = HoldStandby(rig.Env(), options);
  REQUIRE(end.ok());
  CHECK(end->why == "the hold ran out");
  CHECK(end->off.confirmed);
  CHECK_FALSE(rig.standby.on);
  CHECK(rig.lease.holder == "drill 1");
  const store::DrillRecord done = rig.Record(s.drill_id);
  CHECK(done.outcome.result == store::DrillResult::kPassed);
  CHECK(done.outcome.reason == "held, then the hold ran out");
  // Exposure: from power on, through the hour held, to off.
  REQUIRE(done.outcome.exposure_ms);
  CHECK(*done.outcome.exposure_ms == rig.clock.elapsed().count());
  CHECK(*done.outcome.exposure_ms >= 3'600'000);
}

TEST_CASE("drill: a prep goes on when the primary is unreachable, without the comparison",
          "[drill]") {
  // Failover prep is for when the primary is sick: it must not need it.
  Rig rig;
  rig.options.kind = DrillKind::kPrep;
  rig.dialer.primary_answers = false;
  const DrillSummary s = rig.Run();
  CHECK(s.held);
  CHECK(s.primary_unreachable == "fake primary: connection refused");
  REQUIRE(s.phases.size() == 7);
  CHECK(s.phases[0].reason.find("primary agent web1 unreachable (fake primary: connection "
                                "refused); going on without it, the comparison will be "
                                "skipped") != std::string::npos);
  CHECK(s.phases.back().name == "compare");
  CHECK(s.phases.back().outcome == PhaseOutcome::kSkipped);
  CHECK(s.phases.back().reason == "primary unreachable: fake primary: connection refused");
  CHECK(s.probes.empty());
  // Asked once, in the preflight; not again for the comparison.
  CHECK(rig.dialer.primary_dials == 1);
  CHECK(s.outcome.primary_connections == 1);

  // A prep may be told to require it; a drill may be told not to.
  Rig strict;
  strict.options.kind = DrillKind::kPrep;
  strict.config.primary->required_for_prep = true;
  strict.dialer.primary_answers = false;
  const DrillSummary refused = strict.Run();
  CHECK_FALSE(refused.held);
  CHECK(refused.outcome.failed_phase == "preflight");
  CHECK_THAT(refused.outcome.reason, Catch::EndsWith("([primary] required_for_prep = true)"));
  CHECK(strict.standby.power_ons == 0);

  Rig lenient;
  lenient.config.primary->required_for_drill = false;
  lenient.dialer.primary_answers = false;
  const DrillSummary drill = lenient.Run();
  CHECK(drill.outcome.result == store::DrillResult::kPassed);
  CHECK(drill.phases.back().name == "shutdown");
  CHECK(lenient.Record(drill.drill_id).outcome.result == store::DrillResult::kPassed);
}

TEST_CASE("drill: an agent's certificate expiring within 30 days is a warning, not a failure",
          "[drill]") {
  Rig rig;
  const int64_t now = rig.clock.Now().wall_ms;
  // The standby's, with an hour to spare for the time the fake drill takes.
  rig.dialer.script.cert_not_after_ms = now + 12LL * 86'400'000 + 3'600'000;
  rig.dialer.primary_script.cert_not_after_ms = now + 400LL * 86'400'000;  // fine
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  REQUIRE(s.warnings.size() == 1);
  CHECK_THAT(s.warnings[0],
             Catch::StartsWith("the standby agent web1-standby's certificate expires in 12d"));
  CHECK_THAT(s.warnings[0], Catch::EndsWith("); renew it with standbyctl pki renew (README, "
                                            "Certificates)"));
  CHECK(s.phases[2].name == "boot");
  CHECK(s.phases[2].reason.find("; WARNING: the standby agent web1-standby's certificate "
                                "expires in 12d") != std::string::npos);
  CHECK(sb::testing::QueryText(rig.dir.Sub("state.db"), "SELECT level FROM events") == "warn");

  Rig expired;
  expired.dialer.primary_script.cert_not_after_ms = expired.clock.Now().wall_ms - 86'400'000;
  const DrillSummary e = expired.Run();
  REQUIRE(e.warnings.size() == 1);
  CHECK_THAT(e.warnings[0], Catch::StartsWith("the primary agent web1's certificate expired 1d ("));
}

TEST_CASE("drill: an exposure past its limit is said in the reason and as a warning event",
          "[drill]") {
  config::StandbyConfig standby;
  standby.max_exposure = std::chrono::minutes(10);
  standby.max_hold = std::chrono::hours(1);
  Ending ending;
  ending.power_on = store::Timestamp{1'000'000, 1'000'000'000};
  OffResult off;
  off.confirmed = true;
  off.at = store::Timestamp{1'000'000 + 11 * 60'000, 1'000'000'000 + int64_t{11} * 60'000'000'000};
  ending.off = off;
  ending.outcome.result = store::DrillResult::kPassed;
  SetExposureLimit(standby, /*held=*/false, &ending);
  store::DrillOutcome o = Conclude(ending, off.at);
  CHECK(o.exposure_ms == 11 * 60'000);
  CHECK(o.reason == "the exposure of 11m went past its limit, the max_exposure of 10m");
  // Recorded: in the drill's reason and as a warning event.
  Rig rig;
  store::DrillStart start;
  start.standby = "web1-standby";
  start.at = *ending.power_on;
  base::Result<int64_t> id = rig.store->BeginDrill(start);
  REQUIRE(id.ok());
  store::DrillOutcome recorded;
  REQUIRE(FinishDrill(*rig.store, *id, ending, off.at, &recorded).ok());
  CHECK(rig.Record(*id).outcome.reason == o.reason);
  CHECK(sb::testing::QueryText(rig.dir.Sub("state.db"),
                               "SELECT level || ': ' || message FROM events") ==
        "warn: the exposure of 11m went past its limit, the max_exposure of 10m");
  // Held, the prep's limit is max_exposure + max_hold: 11 minutes are within it.
  SetExposureLimit(standby, /*held=*/true, &ending);
  CHECK(ending.exposure_limit == std::chrono::minutes(70));
  CHECK(Conclude(ending, off.at).reason.empty());
}

TEST_CASE("drill: the comparison's verdict comes with its interval and sample counts", "[drill]") {
  Rig slower;
  slower.sc().probes[0].requests = 20;
  slower.sc().digest = "digest-of-the-rig";
  slower.probes.standby_us = 3000;
  const DrillSummary s = slower.Run();
  REQUIRE(s.probes.size() == 1);
  REQUIRE(s.probes[0].comparison.has_value());
  CHECK(s.probes[0].comparison->verdict == Verdict::kStandbySlower);
  CHECK_THAT(s.probes[0].verdict,
             Catch::StartsWith("standby-slower: the whole 95% interval [3.00, 3.00] lies above "
                               "1.50, and the rank test agrees"));
  CHECK_THAT(s.probes[0].verdict,
             Catch::EndsWith("medians 3000 us standby, 1000 us primary (n 20/20); no supporting "
                             "indicator found on the standby"));
  // A slower standby is reported, not failed, unless on_slower says so.
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  // The verdict is on record with its figures, for the report and `history
  // show`; and the drill with the configuration digest it ran under.
  auto recorded = slower.store->ListProbeResults(s.drill_id);
  REQUIRE(recorded.ok());
  REQUIRE(recorded->size() == 1);
  CHECK((*recorded)[0].probe == "home");
  CHECK((*recorded)[0].verdict == "standby-slower");
  CHECK((*recorded)[0].standby_median_us == 3000);
  CHECK((*recorded)[0].primary_median_us == 1000);
  CHECK((*recorded)[0].ratio == Approx(3.0));
  CHECK((*recorded)[0].ratio_low == Approx(3.0));
  CHECK((*recorded)[0].detail == s.probes[0].verdict);
  CHECK(slower.store->GetDrill(s.drill_id)->start.config_digest == "digest-of-the-rig");
  Rig strict;
  strict.sc().probes[0].requests = 20;
  strict.sc().probes[0].on_slower = config::OnSlower::kFail;
  strict.probes.standby_us = 3000;
  const DrillSummary f = strict.Run();
  CHECK(f.outcome.failed_phase == "compare");
  CHECK_THAT(f.outcome.reason, Catch::Contains("home: standby-slower: "));
  CHECK_THAT(f.outcome.reason, Catch::EndsWith("(on_slower = \"fail\")"));
  CHECK(f.confirmed_off);

  Rig same;
  same.sc().probes[0].requests = 20;
  same.probes.standby_us = 1000;
  const DrillSummary e = same.Run();
  REQUIRE(e.probes[0].comparison.has_value());
  CHECK(e.probes[0].comparison->verdict == Verdict::kEquivalent);
}

TEST_CASE("drill: probes go ABBA after their warm-up, which is not counted", "[drill]") {
  Rig rig;
  rig.sc().probes[0].requests = 4;
  rig.sc().probes[0].warmup_requests = 2;
  const DrillSummary s = rig.Run();
  // Rounds alternate which side goes first: primary, standby | standby, primary.
  CHECK(rig.probes.order ==
        std::vector<std::string>{"p", "s", "s", "p", "p", "s", "s", "p", "p", "s", "s", "p"});
  REQUIRE(s.probes[0].comparison.has_value());
  CHECK(s.probes[0].comparison->primary.n == 4);
  CHECK(s.probes[0].comparison->standby.n == 4);
  // Only the counted requests are samples.
  CHECK(sb::testing::QueryText(rig.store->path(), "SELECT count(*) FROM perf_samples") == "8");
}

TEST_CASE("drill: the primary's session cap stops its probing", "[drill]") {
  Rig rig;
  rig.config.primary->max_sessions = 2;
  rig.probes.requests_per_connection = 1;  // the primary closes every connection
  const DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kPassed);
  CHECK(s.outcome.primary_connections == 2);
  CHECK(s.outcome.primary_requests == 1 + 3 + 1);  // and the agent's Ping and Indicators
  REQUIRE(s.probes.size() == 1);
  CHECK(s.probes[0].verdict.find("stopped probing the primary at its cap of 2 sessions") !=
        std::string::npos);
}

// A host's indicators as its agent sends them: calm, or with memory
// pressure, or with a CPU past the stop rules.
nlohmann::json HostJson(double memory_some = 0, double cpu_some = 0) {
  host::Indicators in;
  in.cpus = 2;
  in.load1 = 0.3;
  if (memory_some > 0) in.memory = host::Pressure{memory_some, memory_some, memory_some, 1, 1, 1};
  if (cpu_some > 0) in.cpu = host::Pressure{cpu_some, cpu_some, cpu_some, {}, {}, {}};
  return host::ToJson(in);
}

TEST_CASE("drill: a slower primary is degraded, explained by its indicators or not",
          "[drill][findings]") {
  for (const bool pressure : {true, false}) {
    INFO("memory pressure on the primary: " << pressure);
    Rig rig;
    rig.sc().probes[0].requests = 20;
    rig.probes.primary_us = 3000;
    rig.probes.standby_us = 1000;
    // Pressure past the findings' threshold (10%), short of the stop rules' (25%).
    rig.dialer.primary_script.indicators = {HostJson(), HostJson(pressure ? 15 : 0)};
    const DrillSummary s = rig.Run();
    CHECK(s.outcome.result == store::DrillResult::kPassed);  // the standby is fine
    REQUIRE(s.probes.size() == 1);
    const ProbeSummary& p = s.probes[0];
    CHECK(p.decision == Verdict::kPrimaryDegraded);
    CHECK(p.unexplained == !pressure);
    // Before, at rounds 10 and 20 (stress would stop the probing), after.
    CHECK(rig.dialer.primary_script.indicator_reads == 4);
    if (pressure) {
      REQUIRE(p.findings.size() == 1);
      CHECK(p.findings[0].host == "primary");
      CHECK(p.findings[0].bearing == Bearing::kSupports);
      CHECK(p.findings[0].what == "memory pressure: some avg10 15.0%, full avg10 1.0%");
      CHECK_THAT(p.verdict, Catch::EndsWith("findings: 1 supporting, 0 contradicting, 0 context"));
      CHECK(sb::testing::QueryText(rig.store->path(),
                                   "SELECT verdict || ' ' || host || ' ' || kind || ' ' || bearing "
                                   "FROM findings") ==
            "primary-degraded primary memory-pressure supports");
    } else {
      CHECK(p.findings.empty());
      CHECK_THAT(p.verdict,
                 Catch::EndsWith("unexplained: no indicator on the primary supports it"));
    }
    // Both hosts' readings are kept with the drill.
    CHECK(sb::testing::QueryText(rig.store->path(),
                                 "SELECT group_concat(host || ':' || moment, ' ') FROM "
                                 "host_indicators") ==
          "primary:before standby:before primary:during primary:during primary:after "
          "standby:after");
  }
}

TEST_CASE("drill: a primary slower than in its earlier drills is degraded", "[drill][findings]") {
  Rig rig;
  rig.sc().probes[0].requests = 20;
  rig.probes.primary_us = 1000;
  rig.probes.standby_us = 1000;
  DrillSummary first = rig.Run();
  REQUIRE(first.probes.size() == 1);
  CHECK(first.probes[0].decision == Verdict::kEquivalent);
  CHECK_FALSE(first.probes[0].history.has_value());  // nothing earlier
  // A month later both are slower (the service got heavier), the standby no
  // slower than the primary: against the standby alone that is equivalent.
  rig.probes.primary_us = 2500;
  rig.probes.standby_us = 2500;
  rig.standby.on = false;
  DrillSummary second = rig.Run();
  REQUIRE(second.probes.size() == 1);
  const ProbeSummary& p = second.probes[0];
  REQUIRE(p.history.has_value());
  CHECK(p.history->primary.n == 20);  // the first drill's samples
  CHECK(p.decision == Verdict::kPrimaryDegraded);
  CHECK_THAT(p.verdict,
             Catch::StartsWith("primary-degraded: slower than in its 1 earlier drill(s) (median "
                               "1000 us before, 2500 us now; 95% interval [2.50, 2.50]); against "
                               "the standby: equivalent"));
  CHECK(p.unexplained);
}

TEST_CASE("drill: probing stops when the primary shows stress or its request cap is reached",
          "[drill]") {
  SECTION("stress") {
    Rig rig;
    rig.sc().probes[0].requests = 30;
    rig.dialer.primary_script.indicators = {HostJson(), HostJson(0, 90)};
    const DrillSummary s = rig.Run();
    REQUIRE(s.probes.size() == 1);
    // Read before, then at round 10: stopped there.
    CHECK(s.probes[0].comparison->primary.n == 10 - 2);
    CHECK(s.probes[0].comparison->standby.n == 30);
    CHECK(s.probes[0].verdict.find("stopped probing the primary early: it shows stress (cpu "
                                   "pressure: some avg10 90.0%)") != std::string::npos);
    CHECK(sb::testing::QueryText(rig.store->path(),
                                 "SELECT count(*) FROM host_indicators WHERE moment = 'during'") ==
          "1");
  }
  SECTION("max_requests") {
    Rig rig;
    rig.sc().probes[0].requests = 30;
    rig.config.primary->max_requests = 12;
    const DrillSummary s = rig.Run();
    REQUIRE(s.probes.size() == 1);
    // Hello, Ping, Indicators: 3; then 2 warm-up and 7 counted requests.
    CHECK(s.probes[0].comparison->primary.n == 7);
    CHECK(s.probes[0].verdict.find("request cap reached: stopped probing the primary at the "
                                   "drill's max_requests of 12") != std::string::npos);
    CHECK(s.outcome.primary_requests == 12 + 1);  // and the Indicators reading after
  }
}

TEST_CASE("drill: a command probe is timed by each host's agent", "[drill]") {
  Rig rig;
  config::PerformanceProbe& probe = rig.sc().probes[0];
  probe.kind = config::ProbeKind::kCommand;
  probe.command = "db-query";
  probe.requests = 20;
  rig.dialer.primary_script.duration_us["db-query"] = 2000;
  rig.dialer.script.duration_us["db-query"] = 7000;
  const DrillSummary s = rig.Run();
  REQUIRE(s.probes.size() == 1);
  CHECK(s.probes[0].decision == Verdict::kStandbySlower);
  CHECK(s.probes[0].primary_median_us == 2000);
  CHECK(s.probes[0].standby_median_us == 7000);
  CHECK(rig.probes.order.empty());  // no HTTP request was made
  // A command that fails on the standby fails its samples.
  Rig failing;
  failing.sc().probes[0] = probe;
  failing.dialer.script.exit_codes["db-query"] = 3;
  const DrillSummary f = failing.Run();
  CHECK(f.outcome.failed_phase == "compare");
  CHECK(f.probes[0].standby_failures == 22 - 2);
  CHECK(sb::testing::QueryText(failing.store->path(),
                               "SELECT DISTINCT error FROM perf_samples WHERE host = 'standby'") ==
        "exit 3: ");
}

TEST_CASE("drill: a standby that cannot be confirmed off fails the drill loudly", "[drill]") {
  Rig rig;
  rig.standby.stuck_on = true;
  DrillSummary s = rig.Run();
  CHECK(s.outcome.result == store::DrillResult::kFailed);
  CHECK(s.outcome.failed_phase == "shutdown");
  CHECK(s.outcome.reason.find("THE STANDBY MAY STILL BE ON: it could not be confirmed off (") == 0);
  CHECK(Last(s).outcome == PhaseOutcome::kFailed);
  CHECK_FALSE(s.confirmed_off);
  CHECK_FALSE(s.outcome.exposure_ms);
  CHECK(rig.standby.hard_offs == 1);
  // The graceful wait and the hard one were spent on the drill's clock.
  CHECK(rig.clock.elapsed() >= rig.sc().shutdown_timeout);

  // After an earlier failure the warning is added to its reason.
  Rig both;
  both.standby.stuck_on = true;
  both.dialer.script.restore_error = "no space left";
  s = both.Run();
  CHECK(s.outcome.failed_phase == "restore");
  CHECK(s.outcome.reason.find("no space left") != std::string::npos);
  CHECK(s.outcome.reason.find("; THE STANDBY MAY STILL BE ON") != std::string::npos);
}

}  // namespace
}  // namespace sb::drill
