#include "standby/drill/compare.h"

#include <algorithm>

#include <fmt/format.h>

namespace sb::drill {
namespace {

std::vector<double> AsDouble(const std::vector<int64_t>& v) {
  return std::vector<double>(v.begin(), v.end());
}

std::string OutlierNote(const Comparison& c) {
  if (c.primary.outliers == 0 && c.standby.outliers == 0) return "";
  return fmt::format("; outliers kept: {} primary, {} standby", c.primary.outliers,
                     c.standby.outliers);
}

}  // namespace

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

ProbeSummary Summarize(const ProbeRun& run, const CompareRules& rules) {
  ProbeSummary ps;
  ps.name = run.name;
  ps.primary_failures = run.primary_failures;
  ps.standby_failures = run.standby_failures;
  if (!run.primary_us.empty()) ps.primary_median_us = Median(run.primary_us);
  if (!run.standby_us.empty()) ps.standby_median_us = Median(run.standby_us);
  if (ps.primary_median_us && ps.standby_median_us) {
    ps.comparison = Compare(AsDouble(run.primary_us), AsDouble(run.standby_us), rules);
    const Comparison& c = *ps.comparison;
    ps.verdict = fmt::format("{}: {}; medians {} us standby, {} us primary (n {}/{}){}",
                             VerdictName(c.verdict), c.why, *ps.standby_median_us,
                             *ps.primary_median_us, c.standby.n, c.primary.n, OutlierNote(c));
    if (c.verdict == Verdict::kPrimarySlower) {
      ps.verdict += "; unexplained: no host indicator was consulted";
    }
  } else if (!ps.standby_median_us) {
    ps.verdict = "the standby answered no request";
  } else {
    ps.verdict = "the primary answered no request: no comparison";
  }
  if (run.primary_capped_at) {
    ps.verdict += fmt::format(
        "; sample cap reached: stopped probing the primary at its cap of {} "
        "sessions",
        *run.primary_capped_at);
  }
  if (ps.standby_failures > 0) {
    ps.verdict +=
        fmt::format("; {} of {} standby requests failed", ps.standby_failures, run.requests);
  }
  return ps;
}

}  // namespace sb::drill
