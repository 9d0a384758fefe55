// Process-wide logging setup: spdlog to stderr, as text for people or as one
// JSON object per line for machines. Call InitLogging once, early in main,
// before any thread starts; logging itself is then thread-safe.

#ifndef AGENT_BASE_LOG_H_
#define AGENT_BASE_LOG_H_

#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::base {

// kJournal: "<N>level: message" with N the syslog priority (3 error, 4
// warning, 6 info, 7 debug), which journald reads from a service's stderr,
// so `journalctl -p err` shows the errors.
enum class LogFormat { kText, kJson, kJournal };

// The format for `requested` ("text", "json" or "journal"): journal too
// when the format was not given and stderr is the journal's stream
// (JOURNAL_STREAM names its device and inode, as systemd sets it).
LogFormat ChooseLogFormat(std::string_view requested, bool given);

// `level` is one of trace, debug, info, warn, error, off; `program` names the
// process in JSON lines. Fails on an unknown level name.
Status InitLogging(std::string_view program, LogFormat format, std::string_view level);

}  // namespace sb::base

#endif  // AGENT_BASE_LOG_H_
