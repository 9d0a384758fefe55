#include "standby/store/schema.h"

#include <array>

namespace sb::store {
namespace {

// Times: *_wall_ms are Unix milliseconds (for people and reports);
// *_mono_ns are CLOCK_MONOTONIC nanoseconds, valid within one boot of the
// controller, and the only ones durations are computed from.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE drills (
  id                  INTEGER PRIMARY KEY,
  standby             TEXT    NOT NULL,
  kind                TEXT    NOT NULL CHECK (kind IN ('drill', 'prep')),
  trigger             TEXT    NOT NULL,            -- 'manual' or 'schedule:<name>'
  controller_pid      INTEGER NOT NULL,
  controller_boot_id  TEXT    NOT NULL,
  started_wall_ms     INTEGER NOT NULL,
  started_mono_ns     INTEGER NOT NULL,
  finished_wall_ms    INTEGER,
  finished_mono_ns    INTEGER,
  result              TEXT    NOT NULL DEFAULT 'running'
                      CHECK (result IN ('running', 'passed', 'failed', 'aborted')),
  failed_phase        TEXT,
  reason              TEXT,
  rto_ms              INTEGER,
  boot_ms             INTEGER,
  restore_ms          INTEGER,
  rpo_ms              INTEGER,
  exposure_ms         INTEGER,
  primary_connections INTEGER NOT NULL DEFAULT 0,
  primary_requests    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX drills_by_standby ON drills (standby, started_wall_ms);

CREATE TABLE phases (
  id               INTEGER PRIMARY KEY,
  drill_id         INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  name             TEXT    NOT NULL,
  started_wall_ms  INTEGER NOT NULL,
  started_mono_ns  INTEGER NOT NULL,
  ended_wall_ms    INTEGER,
  ended_mono_ns    INTEGER,
  outcome          TEXT    NOT NULL DEFAULT 'running'
                   CHECK (outcome IN ('running', 'passed', 'failed', 'skipped', 'aborted')),
  reason           TEXT
);
CREATE INDEX phases_by_drill ON phases (drill_id);

CREATE TABLE check_results (
  id           INTEGER PRIMARY KEY,
  drill_id     INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  name         TEXT    NOT NULL,
  kind         TEXT    NOT NULL,
  outcome      TEXT    NOT NULL CHECK (outcome IN ('passed', 'failed', 'not_run')),
  duration_ms  INTEGER NOT NULL,
  detail       TEXT    NOT NULL DEFAULT '',
  at_wall_ms   INTEGER NOT NULL
);
CREATE INDEX check_results_by_drill ON check_results (drill_id);

CREATE TABLE perf_samples (
  id          INTEGER PRIMARY KEY,
  drill_id    INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  probe       TEXT    NOT NULL,
  host        TEXT    NOT NULL CHECK (host IN ('primary', 'standby')),
  seq         INTEGER NOT NULL,
  latency_us  INTEGER,                 -- NULL when the request failed
  error       TEXT,
  at_wall_ms  INTEGER NOT NULL
);
CREATE INDEX perf_samples_by_drill ON perf_samples (drill_id);

CREATE TABLE restore_stats (
  id              INTEGER PRIMARY KEY,
  drill_id        INTEGER REFERENCES drills (id) ON DELETE CASCADE,  -- NULL: a restore alone
  standby         TEXT    NOT NULL,
  source          TEXT    NOT NULL,
  target          TEXT    NOT NULL,
  files_scanned   INTEGER NOT NULL DEFAULT 0,
  files_unchanged INTEGER NOT NULL DEFAULT 0,
  files_changed   INTEGER NOT NULL DEFAULT 0,
  files_new       INTEGER NOT NULL DEFAULT 0,
  files_deleted   INTEGER NOT NULL DEFAULT 0,
  bytes_literal   INTEGER NOT NULL DEFAULT 0,
  bytes_matched   INTEGER NOT NULL DEFAULT 0,
  bytes_wire      INTEGER NOT NULL DEFAULT 0,
  drift_count     INTEGER NOT NULL DEFAULT 0,
  scan_ms         INTEGER NOT NULL DEFAULT 0,
  plan_ms         INTEGER NOT NULL DEFAULT 0,
  transfer_ms     INTEGER NOT NULL DEFAULT 0,
  commit_ms       INTEGER NOT NULL DEFAULT 0,
  source_digest   TEXT,
  target_digest   TEXT,
  at_wall_ms      INTEGER NOT NULL
);
CREATE INDEX restore_stats_by_drill ON restore_stats (drill_id);

CREATE TABLE events (
  id          INTEGER PRIMARY KEY,
  drill_id    INTEGER REFERENCES drills (id) ON DELETE CASCADE,  -- NULL: not about a drill
  at_wall_ms  INTEGER NOT NULL,
  level       TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  message     TEXT    NOT NULL
);
CREATE INDEX events_by_drill ON events (drill_id);
)sql";

// The daemon's schedules: when each fires next (base: the cron time; due:
// with its random delay), so a restart neither forgets a missed run nor
// draws a new delay.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE schedule_state (
  name              TEXT    PRIMARY KEY,
  cron              TEXT    NOT NULL,   -- the expression next_* were computed from
  timezone          TEXT    NOT NULL,
  next_base_wall_ms INTEGER NOT NULL,
  next_due_wall_ms  INTEGER NOT NULL,
  last_run_wall_ms  INTEGER,
  last_drill_id     INTEGER
);
)sql";

// Failover prep holds: a prepared standby kept up until `until_wall_ms`,
// unless released first. `standbyctl hold` changes until/released; the
// holding process sets holder_pid when it has taken over and ended_wall_ms
// when the standby is confirmed off.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE holds (
  drill_id          INTEGER PRIMARY KEY REFERENCES drills (id) ON DELETE CASCADE,
  standby           TEXT    NOT NULL,
  until_wall_ms     INTEGER NOT NULL,
  holder_pid        INTEGER,
  released_wall_ms  INTEGER,
  ended_wall_ms     INTEGER
);
)sql";

// What each smoke check measured (a JSON object: timings, a TTL, a
// certificate's expiry, a body's hash), and the DNS side of a failover: the
// largest TTL of the service's names, and the effective failover time (RTO
// plus that TTL: when the last client follows).
constexpr std::string_view kV4 = R"sql(
ALTER TABLE check_results ADD COLUMN measured TEXT NOT NULL DEFAULT '{}';
ALTER TABLE drills ADD COLUMN dns_ttl_ms INTEGER;
ALTER TABLE drills ADD COLUMN effective_failover_ms INTEGER;
)sql";

// The comparison's evidence besides the samples: each host's indicators
// before and after the probes (the agent's JSON, agent/host/indicators.h),
// and the findings drawn from them, each marked as supporting or
// contradicting its probe's verdict.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE host_indicators (
  id          INTEGER PRIMARY KEY,
  drill_id    INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  host        TEXT    NOT NULL CHECK (host IN ('primary', 'standby')),
  moment      TEXT    NOT NULL,        -- 'before', 'during' or 'after' the probes
  indicators  TEXT    NOT NULL,        -- a JSON object
  at_wall_ms  INTEGER NOT NULL
);
CREATE INDEX host_indicators_by_drill ON host_indicators (drill_id);

CREATE TABLE findings (
  id          INTEGER PRIMARY KEY,
  drill_id    INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  probe       TEXT    NOT NULL,
  verdict     TEXT    NOT NULL,        -- the probe's, e.g. 'standby-slower'
  host        TEXT    NOT NULL CHECK (host IN ('primary', 'standby')),
  kind        TEXT    NOT NULL,        -- e.g. 'memory-pressure', 'close-wait'
  bearing     TEXT    NOT NULL CHECK (bearing IN ('supports', 'contradicts', 'context')),
  detail      TEXT    NOT NULL
);
CREATE INDEX findings_by_drill ON findings (drill_id);
CREATE INDEX perf_samples_by_probe ON perf_samples (probe, host);
)sql";

// What changed on a standby while it was cold, path by path, recorded
// before the restore overwrote it (agent/sync/drift.h); and what each
// restore re-read of the target's unchanged files (agent/sync/reverify.h).
constexpr std::string_view kV6 = R"sql(
CREATE TABLE drift (
  id          INTEGER PRIMARY KEY,
  drill_id    INTEGER REFERENCES drills (id) ON DELETE CASCADE,  -- NULL: a manual restore or verify
  standby     TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  kind        TEXT    NOT NULL
              CHECK (kind IN ('modified', 'corrupt', 'deleted', 'planted', 'metadata')),
  path        TEXT    NOT NULL,
  detail      TEXT    NOT NULL,
  at_wall_ms  INTEGER NOT NULL
);
CREATE INDEX drift_by_drill ON drift (drill_id);
CREATE INDEX drift_by_standby ON drift (standby, at_wall_ms);
ALTER TABLE restore_stats ADD COLUMN corrupt_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE restore_stats ADD COLUMN bytes_reread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE restore_stats ADD COLUMN bytes_from_cache INTEGER NOT NULL DEFAULT 0;
ALTER TABLE restore_stats ADD COLUMN oldest_reread_passes INTEGER;
)sql";

// What the report needs beside the drills: the digest of the standby's
// configuration each drill ran with (a drill under another configuration
// no longer vouches for the standby), and each probe's verdict with its
// figures.
constexpr std::string_view kV7 = R"sql(
ALTER TABLE drills ADD COLUMN config_digest TEXT NOT NULL DEFAULT '';
CREATE TABLE probe_results (
  id                 INTEGER PRIMARY KEY,
  drill_id           INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  probe              TEXT    NOT NULL,
  verdict            TEXT    NOT NULL,   -- 'standby-slower', 'primary-degraded', 'equivalent', 'inconclusive'
  primary_median_us  INTEGER,
  standby_median_us  INTEGER,
  ratio              REAL,               -- standby / primary, with its interval
  ratio_low          REAL,
  ratio_high         REAL,
  detail             TEXT    NOT NULL    -- the verdict in words
);
CREATE INDEX probe_results_by_drill ON probe_results (drill_id);
)sql";

// A hold's hard end: when it started plus the standby's max_hold then
// (extensions stop there; NULL for holds recorded before), and how often it
// brings the standby current again (NULL: never); each such round.
constexpr std::string_view kV8 = R"sql(
ALTER TABLE holds ADD COLUMN limit_wall_ms INTEGER;
ALTER TABLE holds ADD COLUMN resync_ms INTEGER;
CREATE TABLE hold_rounds (
  id                INTEGER PRIMARY KEY,
  drill_id          INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
  round             INTEGER NOT NULL,   -- 1, 2, ... within the hold
  started_wall_ms   INTEGER NOT NULL,
  ended_wall_ms     INTEGER NOT NULL,
  ok                INTEGER NOT NULL,   -- 1 when every mapping was restored and verified
  entries_changed   INTEGER NOT NULL,
  bytes_wire        INTEGER NOT NULL,
  source_wall_ms    INTEGER,            -- the oldest source's newest change: the RPO's input
  detail            TEXT    NOT NULL    -- what was done, or why the round failed
);
CREATE INDEX hold_rounds_by_drill ON hold_rounds (drill_id);
)sql";

constexpr std::array<Migration, 8> kMigrations = {{
    {"drills, phases, check results, performance samples, restore statistics, events", kV1},
    {"schedule state of the daemon", kV2},
    {"failover prep holds", kV3},
    {"check measurements, DNS TTL and effective failover time", kV4},
    {"host indicators and the comparison's findings", kV5},
    {"drift path by path, and the re-reads of restores", kV6},
    {"the configuration digest of each drill, and probe verdicts", kV7},
    {"the hard end of a hold (max_hold), its resync interval and rounds", kV8},
}};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace sb::store
