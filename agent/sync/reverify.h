// Re-reading a target's unchanged files on a rotation, to find what the
// hash cache cannot: bytes that changed on disk while the file's inode,
// size and times did not (bit rot on a cold disk, a write that bypassed
// the filesystem). A scan takes an unchanged file's hash from the cache;
// this reads a share of those files back and compares.
//
// Each verifying scan is one *pass* of the target. A *rotation* spans
// `every` passes and reads each file that was neither rewritten nor
// re-read since it began exactly once: every pass takes the files whose
// last read is oldest, first those last read `every` or more passes ago,
// then as many more as fit the share that spreads what is left of the
// rotation evenly over its remaining passes (its last pass takes all that
// is left). A byte budget per pass caps it; when the budget holds back
// what is due, the rotation stretches, and the report says so; a file
// larger than the whole budget is left to a full pass (`standbyctl verify
// --full`) and named; its last read stays the target's oldest. A
// rewritten file counts as read at the pass that wrote it (its hash was
// computed from the bytes written).
//
// A file read back with other bytes than its cached hash is corrupt: its
// pass is not advanced, and the scan reports its fresh hash so that the
// restore repairs it.

#ifndef AGENT_SYNC_REVERIFY_H_
#define AGENT_SYNC_REVERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/manifest.h"

namespace sb::sync {

struct VerifyPolicy {
  uint32_t every = 12;                  // passes per rotation; at least 1
  uint64_t budget = uint64_t{2} << 30;  // bytes re-read per pass at most
  bool full = false;                    // re-read every unchanged file, budget or not
};

// A file of the baseline that may be read back.
struct VerifyCandidate {
  std::string_view path;  // the baseline's: valid while it gets no Put
  uint64_t size = 0;
  uint64_t verified = 0;  // the pass of its last read
};

struct VerifySelection {
  std::vector<size_t> chosen;  // indexes into the candidates, oldest first
  uint64_t chosen_bytes = 0;
  uint64_t due_bytes = 0;  // what this pass should read for the rotation to keep its pace
  // Files larger than the whole budget: never read by a pass (the budget
  // holds), only by a full one; the first of them named.
  uint64_t too_large_files = 0;
  std::string over_budget;
  bool stretched = false;  // the budget held back some of what was due
  bool completes = false;  // the rotation under way is done after this pass
};

// Which candidates pass `pass` re-reads. Pure.
VerifySelection SelectForVerify(const std::vector<VerifyCandidate>& candidates,
                                const Rotation& rotation, uint64_t pass,
                                const VerifyPolicy& policy);

struct VerifyReport {
  uint64_t pass = 0;
  uint64_t reread_files = 0, reread_bytes = 0;  // read back this pass
  uint64_t cached_files = 0, cached_bytes = 0;  // trusted from the cache without a read
  uint64_t due_bytes = 0;
  bool stretched = false;
  uint64_t too_large_files = 0;  // larger than the budget: left to a full pass
  std::string over_budget;       // the first of them
  // Files whose bytes were never read back nor written since the cache
  // began to keep passes, and the oldest pass any other file was read at.
  uint64_t never_files = 0, never_bytes = 0;
  uint64_t oldest_pass = 0;
  Rotation rotation;                    // after this pass
  std::vector<std::string> corrupt;     // on the agent only: the controller reads them from drift
  std::vector<Digest> corrupt_read;     // on the agent only: each one's bytes as read back
  std::vector<std::string> read_paths;  // in this process only: what was read
};

// One verifying pass in three steps, so that the reads can run on a
// thread of their own while the scan walks the tree:
//
//   PlanReverify    before the scan: which of `baseline`'s files this pass
//                   reads, by the passes it records (a file changed since
//                   is read in vain: its stat no longer matches); advances
//                   the rotation's pass; may begin a new rotation
//   ReadPlanned     reads them back and hashes them (any thread; reads
//                   `baseline` only)
//   FinishReverify  after the scan: `entries` are the scan's, `reused` the
//                   indexes of the files whose hash came from `baseline`.
//                   Records the passes in `baseline` (read files to this
//                   pass; corrupt ones to 0, first in line next time) and
//                   the rotation; gives each corrupt entry its fresh hash in
//                   `entries` and in the report (corrupt_read).
struct VerifyPlan {
  uint64_t pass = 0;
  std::vector<VerifyCandidate> candidates;  // `baseline`'s files, in its order
  VerifySelection selection;
};

// What a read back found, one per chosen candidate: the hash, or nullopt
// when the file changed (or went) since the baseline, which proves nothing.
using ReadBacks = std::vector<std::optional<Digest>>;

VerifyPlan PlanReverify(HashCache& baseline, const VerifyPolicy& policy);
base::Result<ReadBacks> ReadPlanned(int root_fd, const std::string& root, const VerifyPlan& plan,
                                    const HashCache& baseline);
VerifyReport FinishReverify(const VerifyPlan& plan, const ReadBacks& reads,
                            std::vector<ManifestEntry>& entries, const std::vector<size_t>& reused,
                            HashCache& baseline, int64_t now_ms);

// The three in a row (advances the baseline's pass itself).
base::Result<VerifyReport> Reverify(int root_fd, const std::string& root,
                                    std::vector<ManifestEntry>& entries,
                                    const std::vector<size_t>& reused, HashCache& baseline,
                                    const VerifyPolicy& policy, int64_t now_ms);

}  // namespace sb::sync

#endif  // AGENT_SYNC_REVERIFY_H_
