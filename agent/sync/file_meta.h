// Owner, mode and time of restored entries: what a restore sets on each
// file, directory and symlink it writes. Thread-safe (no shared state).

#ifndef AGENT_SYNC_FILE_META_H_
#define AGENT_SYNC_FILE_META_H_

#include <time.h>

#include <cstdint>
#include <optional>
#include <string>

#include "agent/base/status.h"

namespace sb::sync {

struct FileMeta {
  uint32_t mode = 0644;  // permission bits
  int64_t mtime_ns = 0;
  // Applied only when the agent runs as root (numeric ids, as they are in
  // the backup); otherwise new files belong to the agent's user.
  std::optional<uint32_t> uid, gid;
};

bool RunningAsRoot();

// A time in nanoseconds since the epoch as a timespec (negative times too).
timespec Timespec(int64_t ns);

// Owner, mode and time of the open file or directory `fd`; errors name
// `where`.
base::Status SetMetaFd(int fd, const FileMeta& meta, const std::string& where);

// Owner and time of the symlink `name` in `dir_fd` (a symlink has no mode).
base::Status SetMetaSymlink(int dir_fd, const std::string& name, const FileMeta& meta,
                            const std::string& where);

}  // namespace sb::sync

#endif  // AGENT_SYNC_FILE_META_H_
