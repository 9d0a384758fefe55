// How old a backup source is, for the drill's RPO and its max_age check: the
// canary's time when the mapping has one, else the archive's own time, else
// the newest modification in the directory.
#ifndef STANDBY_RESTORE_SOURCE_AGE_H_
#define STANDBY_RESTORE_SOURCE_AGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/base/status.h"
#include "standby/config/config.h"

namespace sb::restore {

struct SourceAge {
  int64_t newest_wall_ms = 0;
  std::string from;  // "canary www/.canary", "archive time", "newest file"
};

// Errors name the source and the canary.
base::Result<SourceAge> ReadSourceAge(const config::RestoreMapping& mapping);

// Parses a canary's text: Unix seconds, or YYYY-MM-DDTHH:MM:SSZ (UTC).
base::Result<int64_t> ParseCanaryTime(std::string_view text);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_SOURCE_AGE_H_
