// The comparison's words: what one probe's latencies on the primary and the
// standby say, through the statistics of stats.h. Pure; the probing itself
// is the drill's compare phase (drill.cc), through the ProbeRequester port.
#ifndef STANDBY_DRILL_COMPARE_H_
#define STANDBY_DRILL_COMPARE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "standby/drill/stats.h"

namespace sb::drill {

// What one probe's requests gave.
struct ProbeRun {
  std::string name;
  int requests = 0;                 // per host, as configured
  std::vector<int64_t> primary_us;  // latencies of the answered requests
  std::vector<int64_t> standby_us;
  int primary_failures = 0, standby_failures = 0;
  std::optional<int> primary_capped_at;  // the session cap that stopped the primary's probing
};

struct ProbeSummary {
  std::string name;
  std::optional<int64_t> primary_median_us, standby_median_us;
  int primary_failures = 0, standby_failures = 0;
  std::optional<Comparison> comparison;  // when both sides answered
  std::string verdict;                   // the verdict and what decided it, in words
};

// The medians, the comparison and the verdict's text.
ProbeSummary Summarize(const ProbeRun& run, const CompareRules& rules = CompareRules());

// The median of `v` (the upper one of an even count); `v` is not empty.
int64_t Median(std::vector<int64_t> v);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_COMPARE_H_
