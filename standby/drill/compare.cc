#include "standby/drill/compare.h"

#include <algorithm>

#include <fmt/format.h>

namespace sb::drill {

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

ProbeSummary Summarize(const ProbeRun& run) {
  ProbeSummary ps;
  ps.name = run.name;
  ps.primary_failures = run.primary_failures;
  ps.standby_failures = run.standby_failures;
  if (!run.primary_us.empty()) ps.primary_median_us = Median(run.primary_us);
  if (!run.standby_us.empty()) ps.standby_median_us = Median(run.standby_us);
  if (ps.primary_median_us && ps.standby_median_us) {
    const double ratio = static_cast<double>(*ps.standby_median_us) /
                         static_cast<double>(std::max<int64_t>(1, *ps.primary_median_us));
    ps.verdict = fmt::format("standby/primary median latency {:.2f} ({} us vs {} us)", ratio,
                             *ps.standby_median_us, *ps.primary_median_us);
  } else if (!ps.standby_median_us) {
    ps.verdict = "the standby answered no request";
  } else {
    ps.verdict = "the primary answered no request: no comparison";
  }
  if (run.primary_capped_at) {
    ps.verdict += fmt::format("; stopped probing the primary at its cap of {} sessions",
                              *run.primary_capped_at);
  }
  if (ps.standby_failures > 0) {
    ps.verdict +=
        fmt::format("; {} of {} standby requests failed", ps.standby_failures, run.requests);
  }
  return ps;
}

}  // namespace sb::drill
