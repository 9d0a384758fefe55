// The restore plan: what must happen to each path for the target to equal
// the source, computed from the source's manifest and the target's scan.
// Each path gets one action (two when its type changes: a delete, then the
// new entry). Paths left unchanged are only counted: in a large tree where
// little changed, a plan entry for each would cost more than the changes.
// Pure; thread-safe.

#ifndef STANDBY_RESTORE_PLAN_H_
#define STANDBY_RESTORE_PLAN_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"
#include "agent/sync/manifest.h"

namespace sb::restore {

enum class Action {
  kUnchanged,  // nothing to do
  kMetadata,   // same content; mode or time differ
  kDelta,      // content differs: send a delta against the target's file
  kWhole,      // content differs, but a delta cannot pay: send the file
  kNew,        // a file the target lacks
  kDelete,     // on the target, not in the source
  kDirectory,  // a directory the target lacks
  kSymlink,    // a symlink the target lacks or that points elsewhere
  kHardlink,   // a second name for a file the source already has
};
inline constexpr size_t kActionCount = 9;

std::string_view ActionName(Action action);

struct PlannedEntry {
  std::string path;
  Action action = Action::kUnchanged;
  uint64_t bytes = 0;   // the source file's size, for content actions
  std::string link_to;  // hard links: the path they name
};

struct ActionTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;
};

struct PlanOptions {
  // Files smaller than this are sent whole: a delta's signature and
  // round trips cost more than the file.
  uint64_t whole_file_below = uint64_t{64} * 1024;
};

struct Plan {
  // What changes, by path; a type change deletes first. kUnchanged only in
  // the totals.
  std::vector<PlannedEntry> entries;
  std::array<ActionTotals, kActionCount> totals{};

  const ActionTotals& Totals(Action a) const { return totals[static_cast<size_t>(a)]; }
};

// `hardlinks` maps a source path to the earlier path it is a hard link to.
// Both manifests are walked in path order: sorted ones (as ManifestDigest
// leaves them) are read in place, others are sorted in a copy.
Plan MakePlan(const std::vector<sync::ManifestEntry>& source,
              const std::vector<sync::ManifestEntry>& target,
              const std::map<std::string, std::string>& hardlinks, const PlanOptions& options);

// The target's manifest from a scan by directory: the entries read of the
// directories `read` (ascending indices into `target_dirs`), and, in every
// other directory of `target_dirs`, the source's children of it, which its
// equal digest proves the target holds. In path order. An error when the
// entries read are not the count the digests announced.
base::Result<std::vector<sync::ManifestEntry>> TargetFromDirectories(
    const std::vector<sync::ManifestEntry>& source,
    const std::vector<sync::DirectoryDigest>& target_dirs, const std::vector<size_t>& read,
    std::vector<sync::ManifestEntry> children);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_PLAN_H_
