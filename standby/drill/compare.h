// The comparison's words: what one probe's latencies on the primary and the
// standby say, through the statistics of stats.h, weighed against the
// primary's own earlier drills and the hosts' indicators (findings.h).
// Pure; the probing itself is the drill's compare phase (drill.cc),
// through the ProbeRequester port.
#ifndef STANDBY_DRILL_COMPARE_H_
#define STANDBY_DRILL_COMPARE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "standby/drill/findings.h"
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
  std::string primary_stopped;           // why else the primary's probing stopped early
};

// What besides the probe's own samples bears on its verdict.
struct ProbeContext {
  std::vector<Finding> findings;            // both hosts' (ReadFindings), unweighed
  std::vector<int64_t> primary_history_us;  // the primary's samples in earlier drills
  int history_drills = 0;                   // how many drills those came from
};

struct ProbeSummary {
  std::string name;
  std::optional<int64_t> primary_median_us, standby_median_us;
  int primary_failures = 0, standby_failures = 0;
  std::optional<Comparison> comparison;  // standby against primary, when both answered
  std::optional<Comparison> history;     // the primary now against its earlier drills
  // The probe's verdict: the comparison's, or primary-degraded when the
  // primary is slower than its own history.
  Verdict decision = Verdict::kInconclusive;
  bool unexplained = false;       // slower, and no indicator of that host supports it
  std::vector<Finding> findings;  // weighed against the decision
  std::string verdict;            // the verdict and what decided it, in words
};

// The medians, the comparisons, the findings and the verdict's text.
ProbeSummary Summarize(const ProbeRun& run, const CompareRules& rules = CompareRules(),
                       const ProbeContext& context = ProbeContext());

// The median of `v` (the upper one of an even count); `v` is not empty.
int64_t Median(std::vector<int64_t> v);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_COMPARE_H_
