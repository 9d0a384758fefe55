#include "tests/report/report_series.h"

#include <ctime>
#include <filesystem>
#include <iterator>
#include <optional>
#include <vector>

#include <catch2/catch.hpp>

#include "standby/drill/drill_end.h"

namespace sb::testing {
namespace {

using store::PhaseOutcome;

constexpr const char* kConfig = R"(
[controller]
state_dir = "state"

[[standby]]
name = "web1-standby"
agent = "127.0.0.3"
rto_target = "15m"
rpo_target = "1d"
verify_within = "35d"
power = { driver = "command", on = ["true"], off = ["true"], status = ["true"] }

[[standby]]
name = "files-standby"
agent = "127.0.0.4"
verify_within = "35d"
power = { driver = "command", on = ["true"], off = ["true"], status = ["true"] }

[[standby]]
name = "db-standby"
agent = "127.0.0.5"
verify_within = "7d"
power = { driver = "command", on = ["true"], off = ["true"], status = ["true"] }

[[standby]]
name = "new-standby"
agent = "127.0.0.6"
power = { driver = "command", on = ["true"], off = ["true"], status = ["true"] }
)";

// One drill of the series. Durations in seconds; the phases after
// `failed_phase` do not run (shutdown does once power on was asked for).
struct Spec {
  const char* standby;
  const char* date;  // "2026-06-01", at 03:00 UTC
  store::DrillResult result = store::DrillResult::kPassed;
  const char* failed_phase = "";
  const char* reason = "";
  int boot_s = 120, restore_s = 360, smoke_s = 114;
  const char* kind = "drill";
  const char* trigger = "schedule:monthly";
  enum Digest { kCurrent, kOld, kNone } digest = kCurrent;
  std::vector<std::pair<const char*, int>> drift = {};
  const char* verdict = "equivalent";
  int64_t bytes = 40 << 20;
};

int64_t DateMs(const char* date) {
  std::tm tm{};
  REQUIRE(strptime(date, "%Y-%m-%d", &tm) != nullptr);
  return (static_cast<int64_t>(timegm(&tm)) + int64_t{3} * 3600) * 1000;
}

void Record(store::StateStore& store, const config::Config& config, const Spec& spec) {
  const config::StandbyConfig* standby = config.FindStandby(spec.standby);
  const int64_t start = DateMs(spec.date);
  store::DrillStart s;
  s.standby = spec.standby;
  s.kind = spec.kind;
  s.trigger = spec.trigger;
  s.controller_pid = 4242;
  s.controller_boot_id = "boot-series";
  s.at = {start, start * 1'000'000};
  s.config_digest = spec.digest == Spec::kNone  ? ""
                    : spec.digest == Spec::kOld ? std::string(64, '0')
                                                : standby->digest;
  const int64_t id = *store.BeginDrill(s);

  // Seconds each phase takes, in drill::kPhases' order.
  const int64_t durations[std::size(drill::kPhases)] = {
      3, 5, spec.boot_s, 1, spec.restore_s, spec.smoke_s, 30, 40};
  int64_t at = start;
  std::optional<int64_t> power_on_at, smoke_end;
  bool failed = false, powered = false;
  store::DrillOutcome o;
  o.result = spec.result;
  o.failed_phase = spec.failed_phase;
  o.reason = spec.reason;
  for (size_t i = 0; i < std::size(drill::kPhases); ++i) {
    const std::string name = drill::kPhases[i];
    if (failed && name != "shutdown") continue;
    if (name == "shutdown" && !powered) continue;
    if (name == "power on") {
      power_on_at = at;
      powered = true;
    }
    const int64_t phase = *store.BeginPhase(id, name, {at, at * 1'000'000});
    at += durations[i] * 1000;
    const bool fails = name == spec.failed_phase;
    PhaseOutcome outcome = PhaseOutcome::kPassed;
    if (fails) {
      outcome = spec.result == store::DrillResult::kAborted ? PhaseOutcome::kAborted
                                                            : PhaseOutcome::kFailed;
    }
    REQUIRE(store.EndPhase(phase, outcome, fails ? spec.reason : "", {at, at * 1'000'000}).ok());
    if (name == "preflight" && !fails) o.rpo_ms = 6 * 3'600'000;
    if (name == "boot" && !fails) o.boot_ms = durations[i] * 1000;
    if (name == "restore" && !fails) {
      o.restore_ms = durations[i] * 1000;
      store::RestoreStatsRecord r;
      r.drill_id = id;
      r.standby = spec.standby;
      r.source = "/backups/web1/latest";
      r.target = "/srv/www";
      r.files_scanned = 1200;
      r.files_changed = 30;
      r.files_new = 4;
      r.files_deleted = 1;
      r.bytes_literal = spec.bytes / 4;
      r.bytes_matched = spec.bytes - spec.bytes / 4;
      r.bytes_wire = spec.bytes / 4 + 4096;
      r.scan_ms = 2000;
      r.transfer_ms = durations[i] * 1000 - 3000;
      r.commit_ms = 1000;
      r.source_digest = r.target_digest = std::string(64, 'a');
      r.at_wall_ms = at;
      std::vector<store::DriftRecord> drift;
      for (const auto& [kind, n] : spec.drift) {
        for (int k = 0; k < n; ++k) {
          drift.push_back({id, spec.standby, "/srv/www", kind,
                           std::string(kind) + "-" + std::to_string(k) + ".html", "", at});
        }
      }
      r.drift_count = static_cast<int64_t>(drift.size());
      REQUIRE(store.AddDrift(drift).ok());
      REQUIRE(store.AddRestoreStats(r).ok());
    }
    if (name == "smoke" && !fails) {
      smoke_end = at;
      o.rto_ms = at - *power_on_at;
      REQUIRE(store
                  .AddCheckResult(id, {"home page", "http", store::CheckOutcome::kPassed, 120,
                                       "200 OK", at, R"({"status":200})"})
                  .ok());
    }
    if (name == "compare") {
      store::ProbeResultRecord p;
      p.probe = "home";
      p.verdict = spec.verdict;
      p.primary_median_us = 20'000;
      p.standby_median_us = spec.verdict == std::string("standby-slower") ? 61'000 : 21'000;
      p.ratio = static_cast<double>(*p.standby_median_us) / 20'000.0;
      p.ratio_low = *p.ratio - 0.05;
      p.ratio_high = *p.ratio + 0.05;
      p.detail = std::string(spec.verdict) + ": the interval of the ratio decides";
      REQUIRE(store.AddProbeResult(id, p).ok());
      if (p.verdict == "standby-slower") {
        REQUIRE(store
                    .AddFinding(id, {"home", p.verdict, "standby", "cpu-steal", "supports",
                                     "steal 31% of the CPU"})
                    .ok());
      }
    }
    if (fails) failed = true;
  }
  if (powered && std::string(spec.failed_phase) != "shutdown" &&
      spec.result != store::DrillResult::kAborted) {
    o.exposure_ms = at - *power_on_at;
  }
  if (std::string(spec.failed_phase) == "shutdown") {
    o.reason = "THE STANDBY MAY STILL BE ON: power off not confirmed";
  }
  o.at = {at, at * 1'000'000};
  REQUIRE(store.FinishDrill(id, o).ok());
}

using R = store::DrillResult;

std::vector<Spec> TheSeries() {
  std::vector<Spec> v;
  v.push_back({"web1-standby", "2026-06-01", R::kPassed, "", "", 120, 360, 120, "drill",
               "schedule:monthly", Spec::kOld});
  v.push_back({"web1-standby", "2026-06-06", R::kPassed, "", "", 140, 400, 114, "drill", "manual",
               Spec::kOld});
  v.push_back({"web1-standby", "2026-06-11", R::kFailed, "preflight",
               "backup /backups/web1/latest is 3d old, over max_age 2d"});
  v.push_back({"web1-standby", "2026-06-16", R::kFailed, "power on", "BMC 127.0.0.9:623: timeout"});
  v.push_back({"web1-standby", "2026-06-21", R::kFailed, "boot",
               "the agent did not answer within boot_timeout 10m"});
  v.push_back({"web1-standby", "2026-06-26", R::kFailed, "lease", "the agent refused the lease"});
  Spec corrupt{"web1-standby", "2026-07-01", R::kFailed, "restore",
               "1 file corrupt on the standby (on_corrupt = \"fail\")"};
  v.push_back(corrupt);
  v.push_back({"web1-standby", "2026-07-06", R::kFailed, "smoke", "check home page: 503"});
  Spec slower{"web1-standby", "2026-07-11", R::kFailed, "compare",
              "home: standby-slower (on_slower = \"fail\")"};
  slower.verdict = "standby-slower";
  v.push_back(slower);
  v.push_back({"web1-standby", "2026-07-16", R::kFailed, "shutdown", ""});
  v.push_back({"web1-standby", "2026-07-21", R::kAborted, "restore", "stopped by SIGTERM"});
  v.push_back({"web1-standby", "2026-07-26", R::kPassed, "", "", 130, 380, 110, "prep", "manual"});
  v.push_back({"web1-standby", "2026-08-01", R::kPassed, "", "", 180, 560, 100});
  Spec over{"web1-standby", "2026-09-01", R::kPassed, "", "", 240, 840, 114};
  over.bytes = 300 << 20;
  v.push_back(over);
  Spec severe{"web1-standby", "2026-10-01", R::kPassed, "", "", 600, 1400, 94};
  severe.bytes = 900 << 20;
  v.push_back(severe);
  Spec drift{"web1-standby", "2026-11-01", R::kPassed, "", "", 120, 360, 114};
  drift.drift = {{"modified", 2}, {"planted", 1}, {"metadata", 1}};
  v.push_back(drift);

  v.push_back({"files-standby", "2026-08-20", R::kPassed});
  v.push_back({"files-standby", "2026-09-01", R::kPassed, "", "", 100, 200, 60});
  v.push_back({"files-standby", "2026-10-01", R::kFailed, "boot", "no agent"});

  v.push_back({"db-standby", "2026-10-01", R::kPassed, "", "", 60, 180, 60});
  Spec changed{"db-standby", "2026-11-15", R::kPassed, "", "", 60, 170, 70};
  changed.digest = Spec::kOld;
  v.push_back(changed);

  Spec gone{"old-standby", "2026-05-01", R::kPassed};
  gone.digest = Spec::kNone;
  v.push_back(gone);
  return v;
}

Series Make(const TempDir& dir, bool fill) {
  Series s;
  s.config_path = dir.Write("standbyctl.toml", kConfig);
  std::filesystem::create_directory(dir.Sub("state"));
  base::Result<config::Config> config = config::LoadConfig(s.config_path);
  INFO(config.status().message());
  REQUIRE(config.ok());
  s.config = std::move(*config);
  base::Result<std::unique_ptr<store::StateStore>> store =
      store::StateStore::Open(store::StateStore::PathIn(s.config.controller.state_dir));
  REQUIRE(store.ok());
  s.store = std::move(*store);
  if (fill) {
    for (const Spec& spec : TheSeries()) Record(*s.store, s.config, spec);
  }
  return s;
}

}  // namespace

Series MakeSeries(const TempDir& dir) { return Make(dir, true); }
Series MakeEmptySeries(const TempDir& dir) { return Make(dir, false); }

}  // namespace sb::testing
