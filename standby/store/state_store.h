// The controller's state store: one SQLite file in the state directory that
// records every drill, its phases, check results, performance samples,
// restore statistics and events.
//
// The file is opened in WAL mode with a busy timeout and foreign keys on, and
// brought to the current schema by forward migrations (schema.h). Every
// write is its own IMMEDIATE transaction, so several processes (a daemon and
// an operator's `history`) can use the store at once. A file that is not a
// SQLite database, or one from a newer standbyctl, is refused and never
// written to.
//
// Callers pass times in, so the store holds no clock. One StateStore per
// thread; separate instances on the same file are safe across threads and
// processes.

#ifndef STANDBY_STORE_STATE_STORE_H_
#define STANDBY_STORE_STATE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/base/status.h"

namespace SQLite {
class Database;
}

namespace sb::store {

// A point in time on both clocks: wall for people, monotonic for durations.
struct Timestamp {
  int64_t wall_ms = 0;  // Unix milliseconds
  int64_t mono_ns = 0;  // CLOCK_MONOTONIC nanoseconds

  static Timestamp Now();
};

enum class DrillResult { kRunning, kPassed, kFailed, kAborted };
enum class PhaseOutcome { kRunning, kPassed, kFailed, kSkipped, kAborted };
enum class CheckOutcome { kPassed, kFailed, kNotRun };

std::string_view DrillResultName(DrillResult r);
std::string_view PhaseOutcomeName(PhaseOutcome o);
std::string_view CheckOutcomeName(CheckOutcome o);

struct DrillStart {
  std::string standby;
  std::string kind = "drill";      // "drill" or "prep"
  std::string trigger = "manual";  // or "schedule:<name>"
  int64_t controller_pid = 0;
  std::string controller_boot_id;
  Timestamp at;
  // The standby's configuration digest (config.h, StandbyConfig::digest);
  // empty for drills recorded before schema v7.
  std::string config_digest;
};

struct DrillOutcome {
  DrillResult result = DrillResult::kPassed;
  std::string failed_phase;  // empty unless failed or aborted
  std::string reason;
  Timestamp at;
  std::optional<int64_t> rto_ms, boot_ms, restore_ms, rpo_ms, exposure_ms;
  // The largest TTL the dns checks read, and RTO + that TTL: when the last
  // client would reach the standby.
  std::optional<int64_t> dns_ttl_ms, effective_failover_ms;
  int64_t primary_connections = 0;
  int64_t primary_requests = 0;
};

struct DrillRecord {
  int64_t id = 0;
  DrillStart start;
  std::optional<Timestamp> finished;
  DrillOutcome outcome;  // result kRunning while unfinished
};

struct PhaseRecord {
  int64_t id = 0;
  int64_t drill_id = 0;
  std::string name;
  Timestamp started;
  std::optional<Timestamp> ended;
  PhaseOutcome outcome = PhaseOutcome::kRunning;
  std::string reason;
};

struct CheckResultRecord {
  std::string name;
  std::string kind;
  CheckOutcome outcome = CheckOutcome::kNotRun;
  int64_t duration_ms = 0;
  std::string detail;
  int64_t at_wall_ms = 0;
  // What the check read, a JSON object: timings, a TTL, a certificate's
  // expiry, a body's hash ("{}" when nothing).
  std::string measured = "{}";
};

struct PerfSampleRecord {
  std::string probe;
  std::string host;  // "primary" or "standby"
  int64_t seq = 0;
  std::optional<int64_t> latency_us;  // absent when the request failed
  std::string error;
  int64_t at_wall_ms = 0;
};

// One host's indicators at one moment of the compare phase.
struct IndicatorsRecord {
  std::string host;               // "primary" or "standby"
  std::string moment;             // "before", "during" or "after" the probes
  std::string indicators = "{}";  // the agent's JSON
  int64_t at_wall_ms = 0;
};

// What an indicator says about a probe's verdict (drill/findings.h).
struct FindingRecord {
  std::string probe;
  std::string verdict;
  std::string host;
  std::string kind;
  std::string bearing;  // "supports", "contradicts" or "context"
  std::string detail;
};

struct RestoreStatsRecord {
  std::optional<int64_t> drill_id;
  std::string standby, source, target;
  int64_t files_scanned = 0, files_unchanged = 0, files_changed = 0, files_new = 0,
          files_deleted = 0;
  int64_t bytes_literal = 0, bytes_matched = 0, bytes_wire = 0;
  int64_t drift_count = 0, corrupt_count = 0;
  // The re-read of the target's unchanged files: bytes read back, bytes
  // trusted from the hash cache, and how many restores back the oldest
  // read of any file lies (nullopt: not every file read back yet).
  int64_t bytes_reread = 0, bytes_from_cache = 0;
  std::optional<int64_t> oldest_reread_passes;
  int64_t scan_ms = 0, plan_ms = 0, transfer_ms = 0, commit_ms = 0;
  std::string source_digest, target_digest;
  int64_t at_wall_ms = 0;
};

// One probe's verdict in a drill's comparison (drill/compare.h).
struct ProbeResultRecord {
  std::string probe;
  std::string verdict;  // stats.h's names
  std::optional<int64_t> primary_median_us, standby_median_us;
  // The standby's median over the primary's, with its bootstrap interval.
  std::optional<double> ratio, ratio_low, ratio_high;
  std::string detail;  // the verdict in words
};

// One path that changed on a standby while it was cold.
struct DriftRecord {
  std::optional<int64_t> drill_id;
  std::string standby, target;
  std::string kind;  // agent/sync/drift.h's names
  std::string path, detail;
  int64_t at_wall_ms = 0;
};

// Where one of the daemon's schedules stands.
struct ScheduleStateRecord {
  std::string name;
  std::string cron, timezone;     // what the times were computed from
  int64_t next_base_wall_ms = 0;  // the cron time
  int64_t next_due_wall_ms = 0;   // with the random delay
  std::optional<int64_t> last_run_wall_ms;
  std::optional<int64_t> last_drill_id;
};

// A prepared standby kept up (`standbyctl prep --hold`).
struct HoldRecord {
  int64_t drill_id = 0;
  std::string standby;
  int64_t until_wall_ms = 0;
  // Past this, no extension: the start plus the standby's max_hold.
  std::optional<int64_t> limit_wall_ms;
  // How often the hold restores the newest backup again; none: never.
  std::optional<int64_t> resync_ms;
  std::optional<int64_t> holder_pid;
  std::optional<int64_t> released_wall_ms;
  std::optional<int64_t> ended_wall_ms;
};

// One round of a hold's resync: the restore phase again, every mapping.
struct HoldRoundRecord {
  int64_t drill_id = 0;
  int64_t round = 0;
  int64_t started_wall_ms = 0, ended_wall_ms = 0;
  bool ok = false;
  int64_t entries_changed = 0, bytes_wire = 0;
  std::optional<int64_t> source_wall_ms;  // the RPO it achieved is ended - this
  std::string detail;
};

struct DrillQuery {
  std::string standby;        // empty: all
  int limit = 100;            // newest first
  int64_t id = 0;             // non-zero: only this drill
  int64_t since_wall_ms = 0;  // non-zero: only drills started at or after this
};

class StateStore {
 public:
  struct Options {
    int busy_timeout_ms = 10'000;
    // Stop at this schema version instead of the current one (tests of the
    // migrations build old databases with it).
    std::optional<int> target_version;
  };

  // The store's file inside a state directory.
  static std::string PathIn(const std::string& state_dir);

  // Opens (creating if absent) and migrates the store at `path`. Fails without
  // writing when the file is not a SQLite database or its schema is newer
  // than this program knows.
  static base::Result<std::unique_ptr<StateStore>> Open(const std::string& path,
                                                        const Options& options);
  static base::Result<std::unique_ptr<StateStore>> Open(const std::string& path) {
    return Open(path, Options());
  }
  ~StateStore();

  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

  base::Result<int64_t> BeginDrill(const DrillStart& start);
  base::Status FinishDrill(int64_t drill_id, const DrillOutcome& outcome);
  base::Result<int64_t> BeginPhase(int64_t drill_id, std::string_view name, Timestamp at);
  base::Status EndPhase(int64_t phase_id, PhaseOutcome outcome, std::string_view reason,
                        Timestamp at);
  base::Status AddCheckResult(int64_t drill_id, const CheckResultRecord& check);
  // A drill's check results in the order they were recorded.
  base::Result<std::vector<CheckResultRecord>> ListCheckResults(int64_t drill_id);
  base::Status AddPerfSample(int64_t drill_id, const PerfSampleRecord& sample);
  // The answered latencies of `probe` on `host` in the last `max_drills`
  // passed drills of `standby` before `before_drill_id`, and how many drills
  // they came from.
  struct History {
    std::vector<int64_t> latencies_us;
    int drills = 0;
  };
  base::Result<History> PerfHistory(std::string_view standby, std::string_view probe,
                                    std::string_view host, int64_t before_drill_id, int max_drills);
  base::Status AddIndicators(int64_t drill_id, const IndicatorsRecord& record);
  base::Result<std::vector<IndicatorsRecord>> ListIndicators(int64_t drill_id);
  base::Status AddFinding(int64_t drill_id, const FindingRecord& finding);
  base::Result<std::vector<FindingRecord>> ListFindings(int64_t drill_id);
  base::Status AddRestoreStats(const RestoreStatsRecord& stats);
  // A drill's restore statistics in the order they were recorded.
  base::Result<std::vector<RestoreStatsRecord>> ListRestoreStats(int64_t drill_id);
  base::Status AddProbeResult(int64_t drill_id, const ProbeResultRecord& result);
  base::Result<std::vector<ProbeResultRecord>> ListProbeResults(int64_t drill_id);
  // All in one transaction.
  base::Status AddDrift(const std::vector<DriftRecord>& drift);
  // The drift a drill recorded, by target and path.
  base::Result<std::vector<DriftRecord>> ListDrift(int64_t drill_id);
  // How many paths of each kind a drill recorded as drift.
  base::Result<std::vector<std::pair<std::string, int64_t>>> CountDrift(int64_t drill_id);
  base::Status AddEvent(std::optional<int64_t> drill_id, std::string_view level,
                        std::string_view message, int64_t at_wall_ms);

  base::Result<std::vector<DrillRecord>> ListDrills(const DrillQuery& query);
  // One drill; kNotFound naming the store when there is none.
  base::Result<DrillRecord> GetDrill(int64_t drill_id);
  base::Result<std::vector<PhaseRecord>> ListPhases(int64_t drill_id);

  // The figures known before a drill ends (RTO, boot, restore, RPO, the
  // footprint): a prep records them before its hold starts.
  base::Status RecordDrillFigures(int64_t drill_id, const DrillOutcome& figures);

  base::Status AddHold(const HoldRecord& hold);
  // Holds not yet ended (all holds with `include_ended`), newest first.
  base::Result<std::vector<HoldRecord>> ListHolds(bool include_ended = false);
  // The hold of prep `drill_id`, ended or not; kNotFound when there is none.
  base::Result<HoldRecord> GetHold(int64_t drill_id);
  // Each sets one column of the hold of `drill_id`.
  base::Status SetHoldUntil(int64_t drill_id, int64_t until_wall_ms);
  base::Status SetHoldPid(int64_t drill_id, int64_t pid);
  base::Status ReleaseHold(int64_t drill_id, int64_t at_wall_ms);
  base::Status EndHold(int64_t drill_id, int64_t at_wall_ms);
  base::Status SetHoldResync(int64_t drill_id, int64_t resync_ms);
  base::Status AddHoldRound(const HoldRoundRecord& round);
  // A hold's rounds, oldest first.
  base::Result<std::vector<HoldRoundRecord>> ListHoldRounds(int64_t drill_id);

  base::Result<std::vector<ScheduleStateRecord>> ListScheduleStates();
  base::Status PutScheduleState(const ScheduleStateRecord& state);  // insert or replace

 private:
  StateStore(std::string path, std::unique_ptr<SQLite::Database> db);
  base::Status EnableWal(int busy_timeout_ms);
  base::Status Migrate(std::optional<int> target_version);

  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
  int schema_version_ = 0;
};

}  // namespace sb::store

#endif  // STANDBY_STORE_STATE_STORE_H_
