#include "standby/store/state_store.h"

#include <time.h>

#include <chrono>
#include <set>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include "standby/store/schema.h"

namespace sb::store {
namespace {

using base::Result;
using base::Status;

// Turns an SQLite error into a Status naming the store and the operation.
Status StoreError(const std::string& path, std::string_view what, const SQLite::Exception& e) {
  int code = e.getErrorCode() & 0xff;
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
    return Status::Corruption(fmt::format(
        "state store {} is not a usable SQLite database ({}); it was left untouched: move it "
        "aside to start a new store, or restore it from a backup",
        path, e.what()));
  }
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status::Unavailable(
        fmt::format("state store {}: {}: still locked by another process after the busy "
                    "timeout ({})",
                    path, what, e.what()));
  }
  return Status::IoError(fmt::format("state store {}: {}: {}", path, what, e.what()));
}

// Runs `body` and converts SQLite's exceptions into a Status.
template <typename F>
Status Guarded(const std::string& path, std::string_view what, F&& body) {
  try {
    body();
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    return StoreError(path, what, e);
  }
}

void BindOptional(SQLite::Statement& st, int index, const std::optional<int64_t>& v) {
  if (v) {
    st.bind(index, *v);
  } else {
    st.bind(index);  // NULL
  }
}

void BindText(SQLite::Statement& st, int index, std::string_view text) {
  st.bind(index, std::string(text));
}

std::optional<int64_t> ColumnOptional(SQLite::Statement& st, int index) {
  SQLite::Column c = st.getColumn(index);
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}

std::optional<Timestamp> ColumnTimestamp(SQLite::Statement& st, int wall, int mono) {
  std::optional<int64_t> w = ColumnOptional(st, wall), m = ColumnOptional(st, mono);
  if (!w || !m) return std::nullopt;
  return Timestamp{*w, *m};
}

template <typename Enum, size_t N>
Enum ParseEnum(const std::string& text, const std::array<Enum, N>& values,
               std::string_view (*name)(Enum)) {
  for (Enum v : values) {
    if (name(v) == text) return v;
  }
  return values[0];
}

}  // namespace

Timestamp Timestamp::Now() {
  timespec wall, mono;
  ::clock_gettime(CLOCK_REALTIME, &wall);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  return {int64_t{wall.tv_sec} * 1000 + wall.tv_nsec / 1'000'000,
          int64_t{mono.tv_sec} * 1'000'000'000 + mono.tv_nsec};
}

std::string_view DrillResultName(DrillResult r) {
  switch (r) {
    case DrillResult::kRunning:
      return "running";
    case DrillResult::kPassed:
      return "passed";
    case DrillResult::kFailed:
      return "failed";
    case DrillResult::kAborted:
      return "aborted";
  }
  return "running";
}

std::string_view PhaseOutcomeName(PhaseOutcome o) {
  switch (o) {
    case PhaseOutcome::kRunning:
      return "running";
    case PhaseOutcome::kPassed:
      return "passed";
    case PhaseOutcome::kFailed:
      return "failed";
    case PhaseOutcome::kSkipped:
      return "skipped";
    case PhaseOutcome::kAborted:
      return "aborted";
  }
  return "running";
}

std::string_view CheckOutcomeName(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::kPassed:
      return "passed";
    case CheckOutcome::kFailed:
      return "failed";
    case CheckOutcome::kNotRun:
      return "not_run";
  }
  return "not_run";
}

std::string StateStore::PathIn(const std::string& state_dir) { return state_dir + "/state.db"; }

StateStore::StateStore(std::string path, std::unique_ptr<SQLite::Database> db)
    : path_(std::move(path)), db_(std::move(db)) {}

StateStore::~StateStore() = default;

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                     const Options& options) {
  std::unique_ptr<SQLite::Database> db;
  try {
    db = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOFOLLOW,
        options.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    return Status::IoError(fmt::format("cannot open state store {}: {}", path, e.what()));
  }
  std::unique_ptr<StateStore> store(new StateStore(path, std::move(db)));
  // Reading user_version first makes SQLite read the header: a file that is
  // not a database fails here, before anything could write to it.
  Status s = Guarded(path, "reading the schema version", [&] {
    store->schema_version_ = store->db_->execAndGet("PRAGMA user_version").getInt();
    store->db_->exec("PRAGMA foreign_keys = ON");
  });
  if (!s.ok()) return s;
  if (store->schema_version_ > CurrentSchemaVersion()) {
    return Status::FailedPrecondition(fmt::format(
        "state store {} has schema version {}, newer than this standbyctl knows ({}); it was "
        "left untouched: run a newer standbyctl",
        path, store->schema_version_, CurrentSchemaVersion()));
  }
  s = store->EnableWal(options.busy_timeout_ms);
  if (!s.ok()) return s;
  s = store->Migrate(options.target_version);
  if (!s.ok()) return s;
  return store;
}

// Switching to WAL needs an exclusive lock, and SQLite does not wait for it
// through the busy handler: a second process opening a new store at the same
// moment gets SQLITE_BUSY at once. Retry within the busy timeout. Once a file
// is in WAL mode it stays so, and the check below returns at once.
Status StateStore::EnableWal(int busy_timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (int attempt = 0;; ++attempt) {
    try {
      if (db_->execAndGet("PRAGMA journal_mode").getString() != "wal") {
        db_->exec("PRAGMA journal_mode = WAL");
      }
      db_->exec("PRAGMA synchronous = NORMAL");
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      int code = e.getErrorCode() & 0xff;
      bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() >= deadline) {
        return StoreError(path_, "switching to WAL mode", e);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + attempt % 10));
  }
}

Status StateStore::Migrate(std::optional<int> target_version) {
  const int target = target_version.value_or(CurrentSchemaVersion());
  std::span<const Migration> migrations = Migrations();
  while (schema_version_ < target) {
    Status s = Guarded(path_, "migrating", [&] {
      SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
      // Another process may have migrated while we waited for the lock.
      schema_version_ = db_->execAndGet("PRAGMA user_version").getInt();
      if (schema_version_ >= target) return;
      db_->exec(std::string(migrations[static_cast<size_t>(schema_version_)].sql));
      db_->exec(fmt::format("PRAGMA user_version = {}", schema_version_ + 1));
      tx.commit();
      ++schema_version_;
    });
    if (!s.ok()) {
      return s.WithContext(
          fmt::format("schema version {} to {}", schema_version_, schema_version_ + 1));
    }
  }
  return Status::Ok();
}

Result<int64_t> StateStore::BeginDrill(const DrillStart& start) {
  int64_t id = 0;
  Status s = Guarded(path_, "recording the start of a drill", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO drills (standby, kind, trigger, controller_pid, "
                         "controller_boot_id, started_wall_ms, started_mono_ns, config_digest) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    BindText(st, 1, start.standby);
    BindText(st, 2, start.kind);
    BindText(st, 3, start.trigger);
    st.bind(4, start.controller_pid);
    BindText(st, 5, start.controller_boot_id);
    st.bind(6, start.at.wall_ms);
    st.bind(7, start.at.mono_ns);
    BindText(st, 8, start.config_digest);
    st.exec();
    id = db_->getLastInsertRowid();
    tx.commit();
  });
  if (!s.ok()) return s;
  return id;
}

Status StateStore::FinishDrill(int64_t drill_id, const DrillOutcome& o) {
  int changed = 0;
  Status s = Guarded(path_, "recording the end of a drill", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "UPDATE drills SET finished_wall_ms = ?, finished_mono_ns = ?, "
                         "result = ?, failed_phase = ?, reason = ?, rto_ms = ?, boot_ms = ?, "
                         "restore_ms = ?, rpo_ms = ?, exposure_ms = ?, "
                         "primary_connections = ?, primary_requests = ?, dns_ttl_ms = ?, "
                         "effective_failover_ms = ? WHERE id = ?");
    st.bind(1, o.at.wall_ms);
    st.bind(2, o.at.mono_ns);
    BindText(st, 3, DrillResultName(o.result));
    BindText(st, 4, o.failed_phase);
    BindText(st, 5, o.reason);
    BindOptional(st, 6, o.rto_ms);
    BindOptional(st, 7, o.boot_ms);
    BindOptional(st, 8, o.restore_ms);
    BindOptional(st, 9, o.rpo_ms);
    BindOptional(st, 10, o.exposure_ms);
    st.bind(11, o.primary_connections);
    st.bind(12, o.primary_requests);
    BindOptional(st, 13, o.dns_ttl_ms);
    BindOptional(st, 14, o.effective_failover_ms);
    st.bind(15, drill_id);
    changed = st.exec();
    tx.commit();
  });
  if (!s.ok()) return s;
  if (changed == 0) {
    return Status::NotFound(fmt::format("state store {}: no drill {}", path_, drill_id));
  }
  return Status::Ok();
}

Result<int64_t> StateStore::BeginPhase(int64_t drill_id, std::string_view name, Timestamp at) {
  int64_t id = 0;
  Status s = Guarded(path_, fmt::format("recording the start of phase {}", name), [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO phases (drill_id, name, started_wall_ms, started_mono_ns) "
                         "VALUES (?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, name);
    st.bind(3, at.wall_ms);
    st.bind(4, at.mono_ns);
    st.exec();
    id = db_->getLastInsertRowid();
    tx.commit();
  });
  if (!s.ok()) return s;
  return id;
}

Status StateStore::EndPhase(int64_t phase_id, PhaseOutcome outcome, std::string_view reason,
                            Timestamp at) {
  return Guarded(path_, "recording the end of a phase", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "UPDATE phases SET ended_wall_ms = ?, ended_mono_ns = ?, outcome = ?, "
                         "reason = ? WHERE id = ?");
    st.bind(1, at.wall_ms);
    st.bind(2, at.mono_ns);
    BindText(st, 3, PhaseOutcomeName(outcome));
    BindText(st, 4, reason);
    st.bind(5, phase_id);
    st.exec();
    tx.commit();
  });
}

Status StateStore::AddCheckResult(int64_t drill_id, const CheckResultRecord& c) {
  return Guarded(path_, fmt::format("recording check {}", c.name), [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO check_results (drill_id, name, kind, outcome, "
                         "duration_ms, detail, at_wall_ms, measured) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, c.name);
    BindText(st, 3, c.kind);
    BindText(st, 4, CheckOutcomeName(c.outcome));
    st.bind(5, c.duration_ms);
    BindText(st, 6, c.detail);
    st.bind(7, c.at_wall_ms);
    BindText(st, 8, c.measured.empty() ? "{}" : c.measured);
    st.exec();
    tx.commit();
  });
}

Result<std::vector<CheckResultRecord>> StateStore::ListCheckResults(int64_t drill_id) {
  std::vector<CheckResultRecord> checks;
  Status s = Guarded(path_, "listing check results", [&] {
    SQLite::Statement st(*db_,
                         "SELECT name, kind, outcome, duration_ms, detail, at_wall_ms, measured "
                         "FROM check_results WHERE drill_id = ? ORDER BY id");
    st.bind(1, drill_id);
    static constexpr std::array<CheckOutcome, 3> kOutcomes = {
        CheckOutcome::kPassed, CheckOutcome::kFailed, CheckOutcome::kNotRun};
    while (st.executeStep()) {
      CheckResultRecord c;
      c.name = st.getColumn(0).getString();
      c.kind = st.getColumn(1).getString();
      c.outcome = ParseEnum(st.getColumn(2).getString(), kOutcomes, CheckOutcomeName);
      c.duration_ms = st.getColumn(3).getInt64();
      c.detail = st.getColumn(4).getString();
      c.at_wall_ms = st.getColumn(5).getInt64();
      c.measured = st.getColumn(6).getString();
      checks.push_back(std::move(c));
    }
  });
  if (!s.ok()) return s;
  return checks;
}

Status StateStore::AddPerfSample(int64_t drill_id, const PerfSampleRecord& p) {
  return Guarded(path_, fmt::format("recording a sample of probe {}", p.probe), [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO perf_samples (drill_id, probe, host, seq, latency_us, "
                         "error, at_wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, p.probe);
    BindText(st, 3, p.host);
    st.bind(4, p.seq);
    BindOptional(st, 5, p.latency_us);
    BindText(st, 6, p.error);
    st.bind(7, p.at_wall_ms);
    st.exec();
    tx.commit();
  });
}

Result<StateStore::History> StateStore::PerfHistory(std::string_view standby,
                                                    std::string_view probe, std::string_view host,
                                                    int64_t before_drill_id, int max_drills) {
  History h;
  Status s = Guarded(path_, fmt::format("reading earlier samples of probe {}", probe), [&] {
    SQLite::Statement st(
        *db_,
        "WITH earlier AS (SELECT DISTINCT d.id FROM drills d JOIN perf_samples p "
        "ON p.drill_id = d.id WHERE d.standby = ? AND d.id < ? AND d.result = 'passed' "
        "AND p.probe = ? AND p.host = ? AND p.latency_us IS NOT NULL ORDER BY d.id DESC LIMIT ?) "
        "SELECT drill_id, latency_us FROM perf_samples WHERE drill_id IN (SELECT id FROM earlier) "
        "AND probe = ? AND host = ? AND latency_us IS NOT NULL ORDER BY id");
    BindText(st, 1, standby);
    st.bind(2, before_drill_id);
    BindText(st, 3, probe);
    BindText(st, 4, host);
    st.bind(5, max_drills);
    BindText(st, 6, probe);
    BindText(st, 7, host);
    std::set<int64_t> drills;
    while (st.executeStep()) {
      drills.insert(st.getColumn(0).getInt64());
      h.latencies_us.push_back(st.getColumn(1).getInt64());
    }
    h.drills = static_cast<int>(drills.size());
  });
  if (!s.ok()) return s;
  return h;
}

Status StateStore::AddIndicators(int64_t drill_id, const IndicatorsRecord& r) {
  return Guarded(path_, fmt::format("recording the {}'s indicators", r.host), [&] {
    SQLite::Statement st(*db_,
                         "INSERT INTO host_indicators (drill_id, host, moment, indicators, "
                         "at_wall_ms) VALUES (?, ?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, r.host);
    BindText(st, 3, r.moment);
    BindText(st, 4, r.indicators);
    st.bind(5, r.at_wall_ms);
    st.exec();
  });
}

Result<std::vector<IndicatorsRecord>> StateStore::ListIndicators(int64_t drill_id) {
  std::vector<IndicatorsRecord> out;
  Status s = Guarded(path_, "listing host indicators", [&] {
    SQLite::Statement st(*db_,
                         "SELECT host, moment, indicators, at_wall_ms FROM host_indicators "
                         "WHERE drill_id = ? ORDER BY id");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                     st.getColumn(2).getString(), st.getColumn(3).getInt64()});
    }
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::AddFinding(int64_t drill_id, const FindingRecord& f) {
  return Guarded(path_, fmt::format("recording a finding of probe {}", f.probe), [&] {
    SQLite::Statement st(*db_,
                         "INSERT INTO findings (drill_id, probe, verdict, host, kind, bearing, "
                         "detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, f.probe);
    BindText(st, 3, f.verdict);
    BindText(st, 4, f.host);
    BindText(st, 5, f.kind);
    BindText(st, 6, f.bearing);
    BindText(st, 7, f.detail);
    st.exec();
  });
}

Result<std::vector<FindingRecord>> StateStore::ListFindings(int64_t drill_id) {
  std::vector<FindingRecord> out;
  Status s = Guarded(path_, "listing findings", [&] {
    SQLite::Statement st(*db_,
                         "SELECT probe, verdict, host, kind, bearing, detail FROM findings "
                         "WHERE drill_id = ? ORDER BY id");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                     st.getColumn(2).getString(), st.getColumn(3).getString(),
                     st.getColumn(4).getString(), st.getColumn(5).getString()});
    }
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::AddRestoreStats(const RestoreStatsRecord& r) {
  return Guarded(path_, fmt::format("recording restore statistics for {}", r.target), [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(
        *db_,
        "INSERT INTO restore_stats (drill_id, standby, source, target, files_scanned, "
        "files_unchanged, files_changed, files_new, files_deleted, bytes_literal, "
        "bytes_matched, bytes_wire, drift_count, scan_ms, plan_ms, transfer_ms, commit_ms, "
        "source_digest, target_digest, at_wall_ms, corrupt_count, bytes_reread, "
        "bytes_from_cache, oldest_reread_passes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    BindOptional(st, 1, r.drill_id);
    BindText(st, 2, r.standby);
    BindText(st, 3, r.source);
    BindText(st, 4, r.target);
    const int64_t numbers[] = {r.files_scanned, r.files_unchanged, r.files_changed, r.files_new,
                               r.files_deleted, r.bytes_literal,   r.bytes_matched, r.bytes_wire,
                               r.drift_count,   r.scan_ms,         r.plan_ms,       r.transfer_ms,
                               r.commit_ms};
    int index = 5;
    for (int64_t n : numbers) st.bind(index++, n);
    BindText(st, 18, r.source_digest);
    BindText(st, 19, r.target_digest);
    st.bind(20, r.at_wall_ms);
    st.bind(21, r.corrupt_count);
    st.bind(22, r.bytes_reread);
    st.bind(23, r.bytes_from_cache);
    BindOptional(st, 24, r.oldest_reread_passes);
    st.exec();
    tx.commit();
  });
}

Result<std::vector<RestoreStatsRecord>> StateStore::ListRestoreStats(int64_t drill_id) {
  std::vector<RestoreStatsRecord> out;
  Status s = Guarded(path_, "listing restore statistics", [&] {
    SQLite::Statement st(
        *db_,
        "SELECT standby, source, target, files_scanned, files_unchanged, files_changed, "
        "files_new, files_deleted, bytes_literal, bytes_matched, bytes_wire, drift_count, "
        "scan_ms, plan_ms, transfer_ms, commit_ms, source_digest, target_digest, at_wall_ms, "
        "corrupt_count, bytes_reread, bytes_from_cache, oldest_reread_passes "
        "FROM restore_stats WHERE drill_id = ? ORDER BY id");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      RestoreStatsRecord r;
      r.drill_id = drill_id;
      r.standby = st.getColumn(0).getString();
      r.source = st.getColumn(1).getString();
      r.target = st.getColumn(2).getString();
      int64_t* numbers[] = {&r.files_scanned, &r.files_unchanged, &r.files_changed, &r.files_new,
                            &r.files_deleted, &r.bytes_literal,   &r.bytes_matched, &r.bytes_wire,
                            &r.drift_count,   &r.scan_ms,         &r.plan_ms,       &r.transfer_ms,
                            &r.commit_ms};
      int index = 3;
      for (int64_t* n : numbers) *n = st.getColumn(index++).getInt64();
      r.source_digest = st.getColumn(16).getString();
      r.target_digest = st.getColumn(17).getString();
      r.at_wall_ms = st.getColumn(18).getInt64();
      r.corrupt_count = st.getColumn(19).getInt64();
      r.bytes_reread = st.getColumn(20).getInt64();
      r.bytes_from_cache = st.getColumn(21).getInt64();
      r.oldest_reread_passes = ColumnOptional(st, 22);
      out.push_back(std::move(r));
    }
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

void BindOptionalReal(SQLite::Statement& st, int index, const std::optional<double>& v) {
  if (v) {
    st.bind(index, *v);
  } else {
    st.bind(index);
  }
}

std::optional<double> ColumnOptionalReal(SQLite::Statement& st, int index) {
  SQLite::Column c = st.getColumn(index);
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

}  // namespace

Status StateStore::AddProbeResult(int64_t drill_id, const ProbeResultRecord& r) {
  return Guarded(path_, fmt::format("recording the verdict of probe {}", r.probe), [&] {
    SQLite::Statement st(*db_,
                         "INSERT INTO probe_results (drill_id, probe, verdict, primary_median_us, "
                         "standby_median_us, ratio, ratio_low, ratio_high, detail) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, drill_id);
    BindText(st, 2, r.probe);
    BindText(st, 3, r.verdict);
    BindOptional(st, 4, r.primary_median_us);
    BindOptional(st, 5, r.standby_median_us);
    BindOptionalReal(st, 6, r.ratio);
    BindOptionalReal(st, 7, r.ratio_low);
    BindOptionalReal(st, 8, r.ratio_high);
    BindText(st, 9, r.detail);
    st.exec();
  });
}

Result<std::vector<ProbeResultRecord>> StateStore::ListProbeResults(int64_t drill_id) {
  std::vector<ProbeResultRecord> out;
  Status s = Guarded(path_, "listing probe verdicts", [&] {
    SQLite::Statement st(*db_,
                         "SELECT probe, verdict, primary_median_us, standby_median_us, ratio, "
                         "ratio_low, ratio_high, detail FROM probe_results WHERE drill_id = ? "
                         "ORDER BY id");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      ProbeResultRecord r;
      r.probe = st.getColumn(0).getString();
      r.verdict = st.getColumn(1).getString();
      r.primary_median_us = ColumnOptional(st, 2);
      r.standby_median_us = ColumnOptional(st, 3);
      r.ratio = ColumnOptionalReal(st, 4);
      r.ratio_low = ColumnOptionalReal(st, 5);
      r.ratio_high = ColumnOptionalReal(st, 6);
      r.detail = st.getColumn(7).getString();
      out.push_back(std::move(r));
    }
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::AddDrift(const std::vector<DriftRecord>& drift) {
  if (drift.empty()) return Status::Ok();
  return Guarded(path_, fmt::format("recording the drift of {}", drift.front().target), [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO drift (drill_id, standby, target, kind, path, detail, "
                         "at_wall_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const DriftRecord& d : drift) {
      BindOptional(st, 1, d.drill_id);
      BindText(st, 2, d.standby);
      BindText(st, 3, d.target);
      BindText(st, 4, d.kind);
      BindText(st, 5, d.path);
      BindText(st, 6, d.detail);
      st.bind(7, d.at_wall_ms);
      st.exec();
      st.reset();
    }
    tx.commit();
  });
}

Result<std::vector<DriftRecord>> StateStore::ListDrift(int64_t drill_id) {
  std::vector<DriftRecord> out;
  Status s = Guarded(path_, "listing drift", [&] {
    SQLite::Statement st(*db_,
                         "SELECT standby, target, kind, path, detail, at_wall_ms FROM drift "
                         "WHERE drill_id = ? ORDER BY target, path, id");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      DriftRecord d;
      d.drill_id = drill_id;
      d.standby = st.getColumn(0).getString();
      d.target = st.getColumn(1).getString();
      d.kind = st.getColumn(2).getString();
      d.path = st.getColumn(3).getString();
      d.detail = st.getColumn(4).getString();
      d.at_wall_ms = st.getColumn(5).getInt64();
      out.push_back(std::move(d));
    }
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> StateStore::CountDrift(int64_t drill_id) {
  std::vector<std::pair<std::string, int64_t>> out;
  Status s = Guarded(path_, "counting drift", [&] {
    SQLite::Statement st(*db_,
                         "SELECT kind, count(*) FROM drift WHERE drill_id = ? GROUP BY kind "
                         "ORDER BY kind");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      out.emplace_back(st.getColumn(0).getString(), st.getColumn(1).getInt64());
    }
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::AddEvent(std::optional<int64_t> drill_id, std::string_view level,
                            std::string_view message, int64_t at_wall_ms) {
  return Guarded(path_, "recording an event", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO events (drill_id, at_wall_ms, level, message) "
                         "VALUES (?, ?, ?, ?)");
    BindOptional(st, 1, drill_id);
    st.bind(2, at_wall_ms);
    BindText(st, 3, level);
    BindText(st, 4, message);
    st.exec();
    tx.commit();
  });
}

Result<std::vector<DrillRecord>> StateStore::ListDrills(const DrillQuery& query) {
  std::vector<DrillRecord> drills;
  Status s = Guarded(path_, "listing drills", [&] {
    SQLite::Statement st(
        *db_,
        "SELECT id, standby, kind, trigger, controller_pid, controller_boot_id, "
        "started_wall_ms, started_mono_ns, finished_wall_ms, finished_mono_ns, result, "
        "failed_phase, reason, rto_ms, boot_ms, restore_ms, rpo_ms, exposure_ms, "
        "primary_connections, primary_requests, dns_ttl_ms, effective_failover_ms, "
        "config_digest FROM drills "
        "WHERE (?1 = '' OR standby = ?1) AND (?3 = 0 OR id = ?3) AND started_wall_ms >= ?4 "
        "ORDER BY started_wall_ms DESC, id DESC LIMIT ?2");
    BindText(st, 1, query.standby);
    st.bind(2, query.limit);
    st.bind(3, query.id);
    st.bind(4, query.since_wall_ms);
    static constexpr std::array<DrillResult, 4> kResults = {
        DrillResult::kRunning, DrillResult::kPassed, DrillResult::kFailed, DrillResult::kAborted};
    while (st.executeStep()) {
      DrillRecord d;
      d.id = st.getColumn(0).getInt64();
      d.start.standby = st.getColumn(1).getString();
      d.start.kind = st.getColumn(2).getString();
      d.start.trigger = st.getColumn(3).getString();
      d.start.controller_pid = st.getColumn(4).getInt64();
      d.start.controller_boot_id = st.getColumn(5).getString();
      d.start.at = {st.getColumn(6).getInt64(), st.getColumn(7).getInt64()};
      d.finished = ColumnTimestamp(st, 8, 9);
      d.outcome.result = ParseEnum(st.getColumn(10).getString(), kResults, DrillResultName);
      d.outcome.failed_phase = st.getColumn(11).getString();
      d.outcome.reason = st.getColumn(12).getString();
      d.outcome.rto_ms = ColumnOptional(st, 13);
      d.outcome.boot_ms = ColumnOptional(st, 14);
      d.outcome.restore_ms = ColumnOptional(st, 15);
      d.outcome.rpo_ms = ColumnOptional(st, 16);
      d.outcome.exposure_ms = ColumnOptional(st, 17);
      d.outcome.primary_connections = st.getColumn(18).getInt64();
      d.outcome.primary_requests = st.getColumn(19).getInt64();
      d.outcome.dns_ttl_ms = ColumnOptional(st, 20);
      d.outcome.effective_failover_ms = ColumnOptional(st, 21);
      d.start.config_digest = st.getColumn(22).getString();
      if (d.finished) d.outcome.at = *d.finished;
      drills.push_back(std::move(d));
    }
  });
  if (!s.ok()) return s;
  return drills;
}

Result<DrillRecord> StateStore::GetDrill(int64_t drill_id) {
  DrillQuery query;
  query.id = drill_id;
  query.limit = 1;
  Result<std::vector<DrillRecord>> drills = ListDrills(query);
  if (!drills.ok()) return drills.status();
  if (drills->empty()) {
    return Status::NotFound(fmt::format("state store {}: no drill {}", path_, drill_id));
  }
  return std::move(drills->front());
}

Result<std::vector<PhaseRecord>> StateStore::ListPhases(int64_t drill_id) {
  std::vector<PhaseRecord> phases;
  Status s = Guarded(path_, "listing phases", [&] {
    SQLite::Statement st(*db_,
                         "SELECT id, drill_id, name, started_wall_ms, started_mono_ns, "
                         "ended_wall_ms, ended_mono_ns, outcome, reason FROM phases "
                         "WHERE drill_id = ? ORDER BY started_mono_ns, id");
    st.bind(1, drill_id);
    static constexpr std::array<PhaseOutcome, 5> kOutcomes = {
        PhaseOutcome::kRunning, PhaseOutcome::kPassed, PhaseOutcome::kFailed,
        PhaseOutcome::kSkipped, PhaseOutcome::kAborted};
    while (st.executeStep()) {
      PhaseRecord p;
      p.id = st.getColumn(0).getInt64();
      p.drill_id = st.getColumn(1).getInt64();
      p.name = st.getColumn(2).getString();
      p.started = {st.getColumn(3).getInt64(), st.getColumn(4).getInt64()};
      p.ended = ColumnTimestamp(st, 5, 6);
      p.outcome = ParseEnum(st.getColumn(7).getString(), kOutcomes, PhaseOutcomeName);
      p.reason = st.getColumn(8).getString();
      phases.push_back(std::move(p));
    }
  });
  if (!s.ok()) return s;
  return phases;
}

Result<std::vector<ScheduleStateRecord>> StateStore::ListScheduleStates() {
  std::vector<ScheduleStateRecord> out;
  Status s = Guarded(path_, "reading the schedule state", [&] {
    SQLite::Statement st(*db_,
                         "SELECT name, cron, timezone, next_base_wall_ms, next_due_wall_ms, "
                         "last_run_wall_ms, last_drill_id FROM schedule_state ORDER BY name");
    while (st.executeStep()) {
      ScheduleStateRecord r;
      r.name = st.getColumn(0).getString();
      r.cron = st.getColumn(1).getString();
      r.timezone = st.getColumn(2).getString();
      r.next_base_wall_ms = st.getColumn(3).getInt64();
      r.next_due_wall_ms = st.getColumn(4).getInt64();
      r.last_run_wall_ms = ColumnOptional(st, 5);
      r.last_drill_id = ColumnOptional(st, 6);
      out.push_back(std::move(r));
    }
  });
  if (!s.ok()) return s;
  return out;
}

Status StateStore::PutScheduleState(const ScheduleStateRecord& r) {
  return Guarded(path_, "recording the schedule state", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT OR REPLACE INTO schedule_state (name, cron, timezone, "
                         "next_base_wall_ms, next_due_wall_ms, last_run_wall_ms, last_drill_id) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)");
    BindText(st, 1, r.name);
    BindText(st, 2, r.cron);
    BindText(st, 3, r.timezone);
    st.bind(4, r.next_base_wall_ms);
    st.bind(5, r.next_due_wall_ms);
    BindOptional(st, 6, r.last_run_wall_ms);
    BindOptional(st, 7, r.last_drill_id);
    st.exec();
    tx.commit();
  });
}

Status StateStore::RecordDrillFigures(int64_t drill_id, const DrillOutcome& o) {
  return Guarded(path_, "recording a drill's figures", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "UPDATE drills SET rto_ms = ?, boot_ms = ?, restore_ms = ?, rpo_ms = ?, "
                         "primary_connections = ?, primary_requests = ?, dns_ttl_ms = ?, "
                         "effective_failover_ms = ? WHERE id = ?");
    BindOptional(st, 1, o.rto_ms);
    BindOptional(st, 2, o.boot_ms);
    BindOptional(st, 3, o.restore_ms);
    BindOptional(st, 4, o.rpo_ms);
    st.bind(5, o.primary_connections);
    st.bind(6, o.primary_requests);
    BindOptional(st, 7, o.dns_ttl_ms);
    BindOptional(st, 8, o.effective_failover_ms);
    st.bind(9, drill_id);
    st.exec();
    tx.commit();
  });
}

Status StateStore::AddHold(const HoldRecord& h) {
  return Guarded(path_, "recording a hold", [&] {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(*db_,
                         "INSERT INTO holds (drill_id, standby, until_wall_ms, holder_pid, "
                         "released_wall_ms, ended_wall_ms, limit_wall_ms, resync_ms) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, h.drill_id);
    BindText(st, 2, h.standby);
    st.bind(3, h.until_wall_ms);
    BindOptional(st, 4, h.holder_pid);
    BindOptional(st, 5, h.released_wall_ms);
    BindOptional(st, 6, h.ended_wall_ms);
    BindOptional(st, 7, h.limit_wall_ms);
    BindOptional(st, 8, h.resync_ms);
    st.exec();
    tx.commit();
  });
}

namespace {

// Holds matching `where` (an SQL condition on drill_id = ?1 when it names it).
Status QueryHolds(SQLite::Database& db, const std::string& path, std::string_view where,
                  int64_t drill_id, std::vector<HoldRecord>* out) {
  return Guarded(path, "reading holds", [&] {
    SQLite::Statement st(db, fmt::format("SELECT drill_id, standby, until_wall_ms, holder_pid, "
                                         "released_wall_ms, ended_wall_ms, limit_wall_ms, "
                                         "resync_ms FROM holds WHERE {} "
                                         "ORDER BY drill_id DESC",
                                         where));
    if (where.find("?1") != std::string_view::npos) st.bind(1, drill_id);
    while (st.executeStep()) {
      HoldRecord h;
      h.drill_id = st.getColumn(0).getInt64();
      h.standby = st.getColumn(1).getString();
      h.until_wall_ms = st.getColumn(2).getInt64();
      h.holder_pid = ColumnOptional(st, 3);
      h.released_wall_ms = ColumnOptional(st, 4);
      h.ended_wall_ms = ColumnOptional(st, 5);
      h.limit_wall_ms = ColumnOptional(st, 6);
      h.resync_ms = ColumnOptional(st, 7);
      out->push_back(std::move(h));
    }
  });
}

}  // namespace

Result<std::vector<HoldRecord>> StateStore::ListHolds(bool include_ended) {
  std::vector<HoldRecord> out;
  Status s = QueryHolds(*db_, path_, include_ended ? "1" : "ended_wall_ms IS NULL", 0, &out);
  if (!s.ok()) return s;
  return out;
}

Result<HoldRecord> StateStore::GetHold(int64_t drill_id) {
  std::vector<HoldRecord> out;
  Status s = QueryHolds(*db_, path_, "drill_id = ?1", drill_id, &out);
  if (!s.ok()) return s;
  if (out.empty()) {
    return Status::NotFound(fmt::format("state store {}: prep {} has no hold", path_, drill_id));
  }
  return std::move(out.front());
}

namespace {

Status SetHoldColumn(SQLite::Database& db, const std::string& path, const char* column,
                     int64_t drill_id, int64_t value) {
  int changed = 0;
  Status s = Guarded(path, "updating a hold", [&] {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement st(db, fmt::format("UPDATE holds SET {} = ? WHERE drill_id = ?", column));
    st.bind(1, value);
    st.bind(2, drill_id);
    changed = st.exec();
    tx.commit();
  });
  if (!s.ok()) return s;
  if (changed == 0)
    return Status::NotFound(fmt::format("state store {}: no hold of drill {}", path, drill_id));
  return Status::Ok();
}

}  // namespace

Status StateStore::SetHoldUntil(int64_t drill_id, int64_t until_wall_ms) {
  return SetHoldColumn(*db_, path_, "until_wall_ms", drill_id, until_wall_ms);
}
Status StateStore::SetHoldPid(int64_t drill_id, int64_t pid) {
  return SetHoldColumn(*db_, path_, "holder_pid", drill_id, pid);
}
Status StateStore::ReleaseHold(int64_t drill_id, int64_t at_wall_ms) {
  return SetHoldColumn(*db_, path_, "released_wall_ms", drill_id, at_wall_ms);
}
Status StateStore::EndHold(int64_t drill_id, int64_t at_wall_ms) {
  return SetHoldColumn(*db_, path_, "ended_wall_ms", drill_id, at_wall_ms);
}
Status StateStore::SetHoldResync(int64_t drill_id, int64_t resync_ms) {
  return SetHoldColumn(*db_, path_, "resync_ms", drill_id, resync_ms);
}

Status StateStore::AddHoldRound(const HoldRoundRecord& r) {
  return Guarded(
      path_, fmt::format("recording round {} of the hold of prep {}", r.round, r.drill_id), [&] {
        SQLite::Statement st(
            *db_,
            "INSERT INTO hold_rounds (drill_id, round, started_wall_ms, "
            "ended_wall_ms, ok, entries_changed, bytes_wire, source_wall_ms, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, r.drill_id);
        st.bind(2, r.round);
        st.bind(3, r.started_wall_ms);
        st.bind(4, r.ended_wall_ms);
        st.bind(5, r.ok ? 1 : 0);
        st.bind(6, r.entries_changed);
        st.bind(7, r.bytes_wire);
        BindOptional(st, 8, r.source_wall_ms);
        BindText(st, 9, r.detail);
        st.exec();
      });
}

Result<std::vector<HoldRoundRecord>> StateStore::ListHoldRounds(int64_t drill_id) {
  std::vector<HoldRoundRecord> out;
  Status s = Guarded(path_, "listing the rounds of a hold", [&] {
    SQLite::Statement st(*db_,
                         "SELECT round, started_wall_ms, ended_wall_ms, ok, entries_changed, "
                         "bytes_wire, source_wall_ms, detail FROM hold_rounds WHERE drill_id = ? "
                         "ORDER BY round");
    st.bind(1, drill_id);
    while (st.executeStep()) {
      HoldRoundRecord r;
      r.drill_id = drill_id;
      r.round = st.getColumn(0).getInt64();
      r.started_wall_ms = st.getColumn(1).getInt64();
      r.ended_wall_ms = st.getColumn(2).getInt64();
      r.ok = st.getColumn(3).getInt64() != 0;
      r.entries_changed = st.getColumn(4).getInt64();
      r.bytes_wire = st.getColumn(5).getInt64();
      r.source_wall_ms = ColumnOptional(st, 6);
      r.detail = st.getColumn(7).getString();
      out.push_back(std::move(r));
    }
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace sb::store
