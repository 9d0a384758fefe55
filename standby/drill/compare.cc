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

ProbeSummary Summarize(const ProbeRun& run, const CompareRules& rules,
                       const ProbeContext& context) {
  ProbeSummary ps;
  ps.name = run.name;
  ps.primary_failures = run.primary_failures;
  ps.standby_failures = run.standby_failures;
  if (!run.primary_us.empty()) ps.primary_median_us = Median(run.primary_us);
  if (!run.standby_us.empty()) ps.standby_median_us = Median(run.standby_us);
  if (ps.primary_median_us && ps.standby_median_us) {
    ps.comparison = Compare(AsDouble(run.primary_us), AsDouble(run.standby_us), rules);
    const Comparison& c = *ps.comparison;
    ps.decision = c.verdict;
    ps.verdict = fmt::format("{}: {}; medians {} us standby, {} us primary (n {}/{}){}",
                             VerdictName(c.verdict), c.why, *ps.standby_median_us,
                             *ps.primary_median_us, c.standby.n, c.primary.n, OutlierNote(c));
  } else if (!ps.standby_median_us) {
    ps.verdict = "inconclusive: the standby answered no request";
  } else {
    ps.verdict = "inconclusive: the primary answered no request: no comparison";
  }
  if (ps.primary_median_us && !context.primary_history_us.empty()) {
    // The primary against itself: its earlier drills as the reference.
    ps.history = Compare(AsDouble(context.primary_history_us), AsDouble(run.primary_us), rules);
    const Comparison& h = *ps.history;
    const bool slower_than_before = h.verdict == Verdict::kStandbySlower;
    if (slower_than_before && ps.decision != Verdict::kStandbySlower) {
      ps.decision = Verdict::kPrimaryDegraded;
      ps.verdict = fmt::format(
          "primary-degraded: slower than in its {} earlier drill(s) (median "
          "{} us before, {} us now; {}); against the standby: {}",
          context.history_drills, h.primary.median, h.standby.median,
          h.ratio ? fmt::format("95% interval [{:.2f}, {:.2f}]", h.ratio->low, h.ratio->high) : "",
          ps.verdict);
    } else {
      ps.verdict +=
          fmt::format("; the primary against its {} earlier drill(s): {}", context.history_drills,
                      slower_than_before ? "slower" : VerdictName(h.verdict));
    }
  }
  ps.findings = context.findings;
  Weigh(ps.decision, &ps.findings);
  if (ps.decision == Verdict::kPrimaryDegraded && !AnyOn(ps.findings, "primary")) {
    ps.unexplained = true;
    ps.verdict += "; unexplained: no indicator on the primary supports it";
  } else if (ps.decision == Verdict::kStandbySlower && !AnyOn(ps.findings, "standby")) {
    ps.unexplained = true;
    ps.verdict += "; no supporting indicator found on the standby";
  }
  if (run.primary_capped_at) {
    ps.verdict += fmt::format(
        "; sample cap reached: stopped probing the primary at its cap of {} "
        "sessions",
        *run.primary_capped_at);
  }
  if (!run.primary_stopped.empty()) ps.verdict += "; " + run.primary_stopped;
  if (ps.standby_failures > 0) {
    ps.verdict +=
        fmt::format("; {} of {} standby requests failed", ps.standby_failures, run.requests);
  }
  int supports = 0, contradicts = 0;
  for (const Finding& f : ps.findings) {
    supports += f.bearing == Bearing::kSupports;
    contradicts += f.bearing == Bearing::kContradicts;
  }
  if (!ps.findings.empty()) {
    ps.verdict +=
        fmt::format("; findings: {} supporting, {} contradicting, {} context", supports,
                    contradicts, static_cast<int>(ps.findings.size()) - supports - contradicts);
  }
  return ps;
}

}  // namespace sb::drill
