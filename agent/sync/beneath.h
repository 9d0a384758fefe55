// Opening and changing paths below a root directory without ever leaving it.
// Every lookup goes through openat2(2) with RESOLVE_BENEATH and
// RESOLVE_NO_SYMLINKS: a "..", an absolute path, a symlink anywhere on the
// way or a mount point crossing fails with an error instead of escaping the
// root. The last component is then used with *at() calls that do not follow
// it either. This is what keeps a crafted archive or message from writing
// outside a restore target. Thread-safe (no shared state).

#ifndef AGENT_SYNC_BENEATH_H_
#define AGENT_SYNC_BENEATH_H_

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

#include "agent/base/file.h"
#include "agent/base/status.h"

namespace sb::sync {

// Opens `path` (relative) below the directory `root_fd` with open(2)
// `flags`; an empty path opens the root itself. A path that does not exist
// because a component on the way is missing or not a directory is kNotFound;
// a symlink on the way is kPermissionDenied.
base::Result<base::UniqueFd> OpenBeneath(int root_fd, std::string_view path, int flags,
                                         unsigned mode = 0);

// Opens the directory holding `path`; `*name` receives the last component.
base::Result<base::UniqueFd> OpenParentBeneath(int root_fd, std::string_view path,
                                               std::string* name);

// lstat of `name` in `dir_fd`: nullopt when it does not exist.
base::Result<std::optional<struct stat>> StatAt(int dir_fd, const std::string& name);

// Removes `name` from `dir_fd`: a file or a symlink, or a directory with
// everything below it, never following a symlink. Missing is not an error.
base::Status RemoveTree(int dir_fd, const std::string& name);

}  // namespace sb::sync

#endif  // AGENT_SYNC_BENEATH_H_
