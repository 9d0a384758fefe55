// A state store filled with a known series of drills, for the report's
// tests: passed drills, a failure in each phase, an aborted drill, a prep,
// regressions, targets exceeded and severely exceeded, and standbys that are
// verified, stale by age, stale by a changed configuration, never drilled,
// and no longer configured.
#ifndef TESTS_REPORT_REPORT_SERIES_H_
#define TESTS_REPORT_REPORT_SERIES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "standby/config/config.h"
#include "standby/store/state_store.h"
#include "tests/support/temp_dir.h"

namespace sb::testing {

// 2026-11-20T12:00:00Z: the series' "now".
inline constexpr int64_t kSeriesNow = 1'795'176'000'000;

struct Series {
  std::string config_path;  // a controller config whose state_dir holds the store
  config::Config config;
  std::unique_ptr<store::StateStore> store;
};

// Writes the config into `dir` and fills the store in its state directory.
Series MakeSeries(const TempDir& dir);

// The same config with an empty store.
Series MakeEmptySeries(const TempDir& dir);

}  // namespace sb::testing

#endif  // TESTS_REPORT_REPORT_SERIES_H_
