// Process-wide logging setup: spdlog to stderr, as text for people or as one
// JSON object per line for machines. Call InitLogging once, early in main,
// before any thread starts; logging itself is then thread-safe.

#ifndef AGENT_BASE_LOG_H_
#define AGENT_BASE_LOG_H_

#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::base {

enum class LogFormat { kText, kJson };

// `level` is one of trace, debug, info, warn, error, off; `program` names the
// process in JSON lines. Fails on an unknown level name.
Status InitLogging(std::string_view program, LogFormat format, std::string_view level);

}  // namespace sb::base

#endif  // AGENT_BASE_LOG_H_
