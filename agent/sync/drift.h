// Drift: what changed on a standby's target while it was cold, found by
// comparing the target as a scan sees it with the baseline the last
// restore left (the target's hash cache, sync/hash_cache.h). Pure; the
// agent computes it, the controller decodes, shows and stores it.

#ifndef AGENT_SYNC_DRIFT_H_
#define AGENT_SYNC_DRIFT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/sync/hash_cache.h"

namespace sb::sync {

enum class DriftKind {
  kModified,  // content (or type) changed, and the file's stat with it
  kCorrupt,   // content changed, stat did not: found by a re-read
  kDeleted,   // gone from the standby
  kPlanted,   // on the standby, not left there by the last restore
  kMetadata,  // mode, owner, mtime or symlink target changed; content did not
};
inline constexpr size_t kDriftKindCount = 5;

std::string_view DriftKindName(DriftKind kind);
std::optional<DriftKind> DriftKindFromName(std::string_view name);

struct Drift {
  DriftKind kind = DriftKind::kModified;
  std::string path;
  std::string detail;  // what changed, e.g. "mode 0644 -> 0600"
  bool operator==(const Drift&) const = default;
};

using DriftCounts = std::array<uint64_t, kDriftKindCount>;

// The drift of the target scanned as `now` (a scan's record) against
// `before`, sorted by path. `corrupt` names the files a re-read found
// changed under an unchanged stat. A baseline that holds files only
// (!before.full_baseline()) yields drift of files and their content and
// mtime only. With `unchanged` (a scan's ScanOptions::unchanged), the
// files of `before` it marks are where they were, unchanged, and `now`
// holds only the other files.
std::vector<Drift> FindDrift(const HashCache& before, const HashCache& now,
                             const std::vector<std::string>& corrupt,
                             const std::vector<bool>* unchanged = nullptr);

DriftCounts CountDrift(const std::vector<Drift>& drift);

}  // namespace sb::sync

#endif  // AGENT_SYNC_DRIFT_H_
