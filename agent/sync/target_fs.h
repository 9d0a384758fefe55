// What a restore target's filesystem can hold, learned without changing
// anything visible in it: the bytes free to the agent, and the range of
// modification times it stores. Filesystems clamp a time they cannot store
// (ext4 keeps 1901-12-13 to 2446-05-10, XFS without bigtime 1901 to 2038),
// so a restore that wrote such a time would end with a target whose
// manifest differs from its source's, after its commit; both sides of a
// restore refuse such a time before anything is staged instead.
// Thread-safe (no shared state).

#ifndef AGENT_SYNC_TARGET_FS_H_
#define AGENT_SYNC_TARGET_FS_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::sync {

// Whole seconds, as a file's st_mtim.tv_sec holds them.
struct TimeRange {
  int64_t min_s = std::numeric_limits<int64_t>::min();
  int64_t max_s = std::numeric_limits<int64_t>::max();
  bool Contains(int64_t s) const { return s >= min_s && s <= max_s; }
};

struct TargetFs {
  uint64_t free_bytes = 0;         // to an unprivileged writer (f_bavail)
  std::optional<TimeRange> times;  // nullopt: the filesystem could not be probed
};

// Probes the times the filesystem of the directory `dir_fd` stores, on an
// unnamed file (O_TMPFILE: no directory entry, no change of the directory's
// times) whose time is set and read back. Where the filesystem has no
// O_TMPFILE and `fallback_name` is given, on a file of that name in
// `dir_fd`, removed afterwards. kUnavailable when it cannot probe.
base::Result<TimeRange> ProbeTimeRange(int dir_fd, const char* fallback_name = nullptr);

// Free bytes of the filesystem holding the existing directory `dir`, and,
// with `probe_times`, the range of times it stores (probed in `dir`).
base::Result<TargetFs> ProbeTargetFs(const std::string& dir, bool probe_times);

// "1900-01-01T00:00:00Z" (UTC); "@SECONDS" for a year beyond 9999.
std::string FormatUtcSeconds(int64_t s);

// Ok when `range` holds `mtime_s`; otherwise an error that says what `what`
// (a path) has and what the filesystem stores.
base::Status CheckStorableTime(std::string_view what, int64_t mtime_s, const TimeRange& range);

}  // namespace sb::sync

#endif  // AGENT_SYNC_TARGET_FS_H_
