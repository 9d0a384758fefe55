// Durations ("45m", "1h30m", "500ms") and sizes ("2GiB", "64KiB", "10MB") as
// written in configuration files, parsed and formatted. Pure functions; safe
// from any thread.

#ifndef AGENT_BASE_UNITS_H_
#define AGENT_BASE_UNITS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::base {

using Duration = std::chrono::milliseconds;

// Parses one or more <integer><unit> groups, units ms, s, m, h, d (w is not
// accepted: a month is not four weeks, and a typo must not pass). "1h30m" is
// 90 minutes. On failure the message says what was expected; it does not name
// the key, which the caller knows.
Result<Duration> ParseDuration(std::string_view text);

// "1h30m", "45m", "2.5s", "120ms", "0s": the shortest exact-enough form.
std::string FormatDuration(Duration d);

// A wall time (milliseconds since the epoch) in RFC 3339 UTC with seconds,
// "2026-11-01T03:00:12Z": the one time format of logs and JSON.
std::string Rfc3339(int64_t wall_ms);

// Parses <integer>[unit] with units B, KiB, MiB, GiB, TiB (powers of 1024) and
// kB, MB, GB, TB (powers of 1000); no unit means bytes.
Result<uint64_t> ParseSize(std::string_view text);

// "512 B", "1.5 KiB", "2.0 GiB".
std::string FormatSize(uint64_t bytes);

}  // namespace sb::base

#endif  // AGENT_BASE_UNITS_H_
