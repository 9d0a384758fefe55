// Small whole-file helpers over POSIX calls, returning Status instead of
// throwing. Thread-safe: no shared state.

#ifndef AGENT_BASE_FILE_H_
#define AGENT_BASE_FILE_H_

#include <cstdint>
#include <string>

#include "agent/base/status.h"

namespace sb::base {

// Reads the whole regular file at `path`; refuses anything larger than
// `max_bytes` rather than reading without bound. Errors name the path.
Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes = 64 << 20);

// Creates `path` and its missing parents with `mode` (like mkdir -p). An
// existing directory is fine; an existing non-directory is an error.
Status MakeDirectories(const std::string& path, unsigned mode);

}  // namespace sb::base

#endif  // AGENT_BASE_FILE_H_
