// One restore of one mapping (a backup source to a target directory on a
// standby), end to end over an agent connection:
//
//   begin    the agent recovers any interrupted restore and opens a staging
//   scan     the source's manifest here, the target's on the agent (hashes
//            from its cache where the files did not change, a share of
//            those files re-read to find corruption at rest, and the
//            drift against what the last restore left)
//   plan     MakePlan
//   transfer the source is read a second time, in its own order: deltas
//            against the target's signatures, whole files, then changes
//   commit   the agent journals and applies everything, then reports the
//            target's digest, which must equal the source's
//
// Before anything is staged, the restore is refused when it would delete
// more of the target than max_delete allows, stage more than the target's
// filesystem has free (less keep_free), or write a time that filesystem
// cannot store. A dry run stops after the plan and those checks and changes
// nothing. An error before the commit aborts the restore and the target
// keeps its old state; the error's message always ends saying what the
// target holds. One thread.

#ifndef STANDBY_RESTORE_RESTORE_RUN_H_
#define STANDBY_RESTORE_RESTORE_RUN_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/client/agent_client.h"
#include "agent/sync/drift.h"
#include "agent/sync/reverify.h"
#include "standby/config/config.h"
#include "standby/restore/plan.h"
#include "standby/restore/source.h"

namespace sb::restore {

// Who owns what the restore writes (applied only where the agent runs as
// root). By default the source's numeric ids, as `rsync --numeric-ids`;
// the maps rewrite ids that differ on the standby.
struct OwnerPolicy {
  bool set_owners = true;  // false: new entries belong to the agent's user
  std::map<int64_t, int64_t> uid_map, gid_map;
};

// How far a long step of a restore is.
struct RestoreProgress {
  std::string step;              // "hash" (the source), "transfer"
  std::string subject;           // the source's path, the target
  uint64_t done = 0, total = 0;  // bytes
  std::chrono::milliseconds elapsed{0};
  bool ended = false;  // the step's last report
};

struct RestoreSpec {
  std::string source;  // as configured: a directory, an archive, or a glob
  std::string target;  // absolute, on the standby
  bool dry_run = false;
  PlanOptions plan;
  OwnerPolicy owners;
  // Bytes that must stay free on the target's filesystem: a restore whose
  // staging (every new or changed file, whole) would eat into them is
  // refused before anything is sent.
  uint64_t keep_free = 0;
  // Deleting more of the target than this is refused (a source that came up
  // empty), unless allow_mass_delete says the deletions are intended.
  config::DeleteLimit max_delete;
  bool allow_mass_delete = false;
  // Where the hashes of a directory source are cached between restores
  // (sync::HashCache): its files whose inode, size, mtime and ctime did not
  // change are not read again. Empty: no cache.
  std::string source_cache;
  // Called from the restoring thread with the progress of its long steps,
  // at most every 100 ms (a view, such as the command's, decides what to
  // show).
  std::function<void(const RestoreProgress&)> on_progress;
  // The re-read of the target's unchanged files on the standby; nullopt:
  // none (the hash cache is trusted as it is).
  std::optional<sync::VerifyPolicy> verify;
  // Called with the drift as soon as it is known, before the restore
  // changes anything (a planted file is recorded before it is deleted).
  std::function<void(const std::vector<sync::Drift>&)> on_drift;
  // Ask the agent for its directories' digests and only the entries of
  // those that differ, where it can (ScanChildren); false: for every entry,
  // as from an agent that cannot.
  bool scan_by_directory = true;
  // Test seam: runs between the plan and the transfer (the source's two
  // reads), so a test can change the source there.
  std::function<void()> before_transfer;
};

struct RestoreReport {
  RestoreSpec spec;
  ResolvedSource source;
  int64_t source_newest_ns = 0;  // the RPO input: the newest change in the source
  size_t source_entries = 0;
  size_t target_entries = 0;  // before the restore
  Plan plan;
  std::string recovered;  // how an interrupted earlier restore was recovered
  // What changed on the standby since the last restore, sorted by path
  // (up to the agent's cap; the counts are whole).
  std::vector<sync::Drift> drift;
  sync::DriftCounts drift_counts{};
  bool drift_truncated = false;
  bool hash_cache_used = false;  // false: drift could not be checked
  bool full_baseline = false;    // false: only files were compared
  // The re-read on the standby, unless none was asked or possible.
  std::optional<sync::VerifyReport> verify;
  uint64_t target_hashed_bytes = 0;  // read by the scan because their stat changed
  // A scan by directory: of the target's directories, those whose entries
  // were sent (their digests differed from the source's). Unset: the agent
  // sent every entry.
  std::optional<uint64_t> target_directories, target_directories_read;
  uint64_t DriftTotal() const;
  uint64_t Corrupt() const { return drift_counts[static_cast<size_t>(sync::DriftKind::kCorrupt)]; }
  uint64_t literal_bytes = 0;  // file bytes sent as they are
  uint64_t matched_bytes = 0;  // file bytes the agent copied from its old files
  uint64_t wire_bytes = 0;     // data chunk bytes both ways (deltas, files, signatures)
  int64_t scan_ms = 0, plan_ms = 0, transfer_ms = 0, commit_ms = 0;
  std::string source_digest;
  std::string target_digest;  // after the commit; empty for a dry run
  // Dry runs: what would refuse the restore before staging (ok: nothing).
  base::Status refusal;
};

base::Result<RestoreReport> RunRestore(client::AgentClient& agent, const RestoreSpec& spec);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_RESTORE_RUN_H_
