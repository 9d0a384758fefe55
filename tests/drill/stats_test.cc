// The comparison's statistics against hand-checked values: medians, MAD
// outliers, p95, the Mann-Whitney U test (SciPy's documented example), the
// bootstrap interval, and the verdict rules on tables of cases.

#include "standby/drill/stats.h"

#include <cmath>

#include <catch2/catch.hpp>

namespace sb::drill {
namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

// n latencies around `base` µs with a deterministic spread of `spread`.
std::vector<double> Around(double base, double spread, int n, int salt = 0) {
  std::vector<double> v;
  v.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    v.push_back(base + spread * static_cast<double>((i * 37 + salt * 11) % 50) / 50.0);
  }
  return v;
}

std::vector<double> Scaled(std::vector<double> v, double by) {
  for (double& x : v) x *= by;
  return v;
}

TEST_CASE("stats: medians of odd and even counts", "[stats]") {
  CHECK(MedianOf({3, 1, 2}) == 2);
  CHECK(MedianOf({4, 1, 3, 2}) == 2.5);
  CHECK(MedianOf({5}) == 5);
  CHECK(MedianOf({7, 7, 1, 100}) == 7);
}

TEST_CASE("stats: outliers are counted by the modified z-score, p95 only from 100 samples",
          "[stats]") {
  // Median 11, deviations {1,1,1,0,0,1,89}: MAD 1; 100 scores 0.6745 * 89.
  const SideStats s = Describe({10, 10, 11, 12, 10, 11, 100});
  CHECK(s.n == 7);
  CHECK(s.median == 11);
  CHECK(s.outliers == 1);
  CHECK_FALSE(s.p95.has_value());
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  const SideStats h = Describe(hundred);
  REQUIRE(h.p95.has_value());
  CHECK(*h.p95 == 95);  // nearest rank of 0.95 * 99 = 94.05
  CHECK(h.outliers == 0);
  CHECK(Describe({5, 5, 5, 5}).outliers == 0);  // MAD 0: nothing to score against
}

TEST_CASE("stats: Mann-Whitney U matches SciPy's documented example and a hand computation",
          "[stats]") {
  // scipy.stats.mannwhitneyu(males, females, method="asymptotic"):
  // statistic 17.0, pvalue 0.11134688653314041.
  const RankTest docs = MannWhitney({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  CHECK(docs.u == 17);
  CHECK_THAT(docs.p, WithinRel(0.11134688653314041, 1e-9));
  // Complete separation of 9 and 9: U 0; z = (40.5 - 0.5) / sqrt(81 * 19 / 12).
  const RankTest apart =
      MannWhitney({1, 2, 3, 4, 5, 6, 7, 8, 9}, {10, 11, 12, 13, 14, 15, 16, 17, 18});
  CHECK(apart.u == 0);
  CHECK_THAT(apart.p, WithinRel(0.0004122948020616911, 1e-9));
  // The same test the other way round: U is n1 n2 - U, p the same.
  const RankTest mirrored =
      MannWhitney({10, 11, 12, 13, 14, 15, 16, 17, 18}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(mirrored.u == 81);
  CHECK_THAT(mirrored.p, WithinRel(apart.p, 1e-12));
  // All equal: no evidence.
  CHECK(MannWhitney({4, 4, 4}, {4, 4, 4}).p == 1);
  // Ties get mean ranks: {1,2,2} vs {2,3}: ranks 1, 3, 3 | 3, 5; U = 7 - 6 = 1.
  CHECK(MannWhitney({1, 2, 2}, {2, 3}).u == 1);
}

TEST_CASE("stats: the bootstrap interval is reproducible from its seed and holds the ratio",
          "[stats]") {
  const std::vector<double> primary = Around(1000, 100, 20);
  const std::vector<double> standby = Scaled(primary, 3);
  const RatioInterval a = BootstrapMedianRatio(primary, standby, 2000, 42);
  const RatioInterval b = BootstrapMedianRatio(primary, standby, 2000, 42);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);
  CHECK(a.seed == 42);
  CHECK(a.resamples == 2000);
  CHECK_THAT(a.ratio, WithinAbs(3, 1e-9));
  CHECK(a.low <= 3);
  CHECK(a.high >= 3);
  CHECK(a.low > 2.5);
  const RatioInterval same = BootstrapMedianRatio({100, 100, 100}, {100, 100, 100}, 500, 1);
  CHECK(same.low == 1);
  CHECK(same.high == 1);
}

TEST_CASE("stats: verdicts only when the whole interval and the rank test agree", "[stats]") {
  const CompareRules rules;
  struct Row {
    const char* what;
    std::vector<double> primary, standby;
    Verdict verdict;
    const char* why;
  };
  const std::vector<double> p = Around(1000, 40, 20);
  const Row rows[] = {
      {"3x slower standby", p, Scaled(Around(1000, 40, 20, 3), 3), Verdict::kStandbySlower,
       "lies above 1.50, and the rank test agrees"},
      {"3x slower primary", Scaled(p, 3), Around(1000, 40, 20, 3), Verdict::kPrimaryDegraded,
       "lies below 0.67, and the rank test agrees"},
      {"the same service", p, Around(1000, 40, 20, 7), Verdict::kEquivalent, "lies within ±10%"},
      {"too few samples", Around(1000, 40, 8), Scaled(Around(1000, 40, 20), 3),
       Verdict::kInconclusive, "fewer than 9 samples a side (primary 8, standby 20)"},
      {"1.3x: beyond the noise but not past the threshold", p, Scaled(Around(1000, 40, 20, 5), 1.3),
       Verdict::kInconclusive, "is neither within ±10% nor beyond 1.50"},
      {"wide noise", Around(1000, 2000, 20), Around(1000, 2000, 20, 9), Verdict::kInconclusive,
       "is neither within ±10% nor beyond 1.50"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    const Comparison c = Compare(row.primary, row.standby, rules);
    INFO(c.why);
    CHECK(c.verdict == row.verdict);
    CHECK(c.why.find(row.why) != std::string::npos);
  }
  CHECK(VerdictName(Verdict::kStandbySlower) == "standby-slower");
  CHECK(VerdictName(Verdict::kEquivalent) == "equivalent");
  CHECK(VerdictName(Verdict::kPrimaryDegraded) == "primary-degraded");
}

TEST_CASE("stats: a certain difference smaller than min_difference is no verdict", "[stats]") {
  CompareRules rules;
  rules.min_difference = 1000;  // 1 ms
  // 2x slower, but at about 200 and 400 us: 205 us apart.
  const std::vector<double> p = Scaled(Around(1000, 40, 20), 0.2);
  const std::vector<double> s = Scaled(Around(1000, 40, 20, 3), 0.4);
  const Comparison c = Compare(p, s, rules);
  CHECK(c.verdict == Verdict::kEquivalent);
  CHECK_THAT(c.why, Catch::StartsWith("the medians differ by 205 us, less than the "
                                      "min_difference of 1000 us (95% interval ["));
  CHECK(c.rank->p < 0.001);  // the rank test is sure; the difference is not worth a verdict
  // Without it, the same samples are standby-slower.
  CHECK(Compare(p, s, CompareRules()).verdict == Verdict::kStandbySlower);
}

}  // namespace
}  // namespace sb::drill
