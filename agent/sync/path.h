// Checking paths that come from a backup source or from a message, before
// anything is read or written with them. Pure; thread-safe.

#ifndef AGENT_SYNC_PATH_H_
#define AGENT_SYNC_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace sb::sync {

// What Linux takes: a path of at most 4095 bytes (PATH_MAX with its NUL),
// each name at most 255 (NAME_MAX).
inline constexpr size_t kMaxPathBytes = 4095;
inline constexpr size_t kMaxNameBytes = 255;

// A relative, normalized path: not empty, not absolute, no "." or ".."
// component, no empty component, no NUL, at most kMaxPathBytes, each name at
// most kMaxNameBytes. The message says what is wrong.
base::Status CheckRelativePath(std::string_view path);

// A symlink's target as symlink(2) takes it: not empty, no NUL, at most
// kMaxPathBytes.
base::Status CheckSymlinkTarget(std::string_view target);

// The directory a restore stages into, at the top of its target. A scan
// skips it and no restored path may use the name.
inline constexpr std::string_view kStagingDirName = ".standbyctl-staging";

// "ROOT/PATH" (ROOT itself for an empty path): how a message names a path
// below a restore target.
std::string PathBelow(std::string_view root, std::string_view path);

// "PARENT/NAME", or NAME when PARENT is empty (the root): a relative path
// one level down.
std::string ChildPath(std::string_view parent, std::string_view name);

// A path a restore may write: CheckRelativePath, and not in kStagingDirName.
base::Status CheckRestorePath(std::string_view path);

// An absolute, normalized path equal to or below one of `roots`.
base::Status CheckUnderRoots(std::string_view path, const std::vector<std::string>& roots);

}  // namespace sb::sync

#endif  // AGENT_SYNC_PATH_H_
