// How old a backup source is, for the drill's RPO and its max_age check: the
// canary's time when the mapping has one, else the archive's own time, else
// the newest modification in the directory.
#ifndef STANDBY_RESTORE_SOURCE_AGE_H_
#define STANDBY_RESTORE_SOURCE_AGE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"
#include "standby/config/config.h"

namespace sb::restore {

struct SourceAge {
  int64_t newest_wall_ms = 0;
  std::string from;         // "canary www/.canary", "archive time", "newest file"
  std::string canary_text;  // the canary's text as the backup holds it, when from one
};

// Errors name the source and the canary.
base::Result<SourceAge> ReadSourceAge(const config::RestoreMapping& mapping);

// How far a backup's time may be ahead of the controller's clock: the
// clocks of two hosts differ a little.
inline constexpr std::chrono::minutes kClockSkewAllowance{5};

// Whether a backup whose `age` was read at `now_wall_ms` may be restored:
// not dated in the future beyond kClockSkewAllowance (its age, and so its
// max_age and the RPO, would be unknown: a wrong clock or a bad canary),
// and not older than the mapping's max_age. Errors name the source, its
// age and what the time came from.
base::Status CheckSourceAge(const config::RestoreMapping& mapping, const SourceAge& age,
                            int64_t now_wall_ms);

// Parses a canary's text: Unix seconds, or YYYY-MM-DDTHH:MM:SSZ (UTC).
base::Result<int64_t> ParseCanaryTime(std::string_view text);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_SOURCE_AGE_H_
