// Checking paths that come from a backup source or from a message, before
// anything is read or written with them. Pure; thread-safe.

#ifndef AGENT_SYNC_PATH_H_
#define AGENT_SYNC_PATH_H_

#include <string>
#include <string_view>
#include <vector>

#include "agent/base/status.h"

namespace sb::sync {

// A relative, normalized path: not empty, not absolute, no "." or ".."
// component, no empty component, no NUL, at most 4096 bytes. The message
// says what is wrong.
base::Status CheckRelativePath(std::string_view path);

// The directory a restore stages into, at the top of its target. A scan
// skips it and no restored path may use the name.
inline constexpr std::string_view kStagingDirName = ".standbyctl-staging";

// A path a restore may write: CheckRelativePath, and not in kStagingDirName.
base::Status CheckRestorePath(std::string_view path);

// An absolute, normalized path equal to or below one of `roots`.
base::Status CheckUnderRoots(std::string_view path, const std::vector<std::string>& roots);

}  // namespace sb::sync

#endif  // AGENT_SYNC_PATH_H_
