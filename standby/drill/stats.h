// The statistics of the comparison with the primary: what two sets of
// latencies can and cannot say. Pure and deterministic (the bootstrap's
// seed is an input, recorded with its result, so a verdict can be
// reproduced); tested against hand-checked tables.
//
// The rules follow criterion.rs and ClickHouse's performance comparison
// (README, "The comparison"): a verdict only
// when the whole 95% interval of the ratio of medians is past a threshold
// and a rank test agrees; "equivalent" only when the whole interval lies in
// a noise band; otherwise, or with fewer than 9 samples a side,
// inconclusive. Latencies are skewed, so medians and ranks, not means.
#ifndef STANDBY_DRILL_STATS_H_
#define STANDBY_DRILL_STATS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::drill {

// One side's samples.
struct SideStats {
  size_t n = 0;
  double median = 0;
  std::optional<double> p95;  // only with at least kMinSamplesForP95 samples
  // Samples whose modified z-score 0.6745 (x - median) / MAD is above 3.5
  // (Iglewicz and Hoaglin): counted and reported, never dropped.
  size_t outliers = 0;
};

inline constexpr size_t kMinSamplesForP95 = 100;

// `samples` must not be empty.
SideStats Describe(const std::vector<double>& samples);

// The median (the mean of the middle two of an even count); `v` is not
// empty.
double MedianOf(std::vector<double> v);

// The ratio b/a of the medians with a bootstrap percentile interval: each
// side resampled with replacement `resamples` times, from `seed`.
struct RatioInterval {
  double ratio = 0;
  double low = 0, high = 0;  // the 2.5th and 97.5th percentiles
  int resamples = 0;
  uint64_t seed = 0;
};

// Neither `a` nor `b` may be empty; a median of 0 counts as 1 (µs).
RatioInterval BootstrapMedianRatio(const std::vector<double>& a, const std::vector<double>& b,
                                   int resamples, uint64_t seed);

// The two-sided p-value of the Mann-Whitney U test (normal approximation
// with the tie and continuity corrections: meant for 9 samples a side or
// more), and U for `a`.
struct RankTest {
  double u = 0;
  double p = 1;
};
RankTest MannWhitney(const std::vector<double>& a, const std::vector<double>& b);

enum class Verdict { kStandbySlower, kPrimaryDegraded, kEquivalent, kInconclusive };
std::string_view VerdictName(Verdict v);  // "standby-slower", ...

struct CompareRules {
  double slower_ratio = 1.5;  // a side is slower when the interval lies beyond this
  double noise_band = 0.10;   // equivalent when the interval lies within 1 ± this
  // Also equivalent when the medians differ by less than this (in the
  // samples' unit): a difference of microseconds is no failover risk,
  // however certain (ClickHouse likewise sets short queries aside).
  double min_difference = 0;
  double alpha = 0.05;     // the rank test must agree below this
  size_t min_samples = 9;  // fewer on a side: inconclusive
  int resamples = 2000;
  uint64_t seed = 20261201;
};

struct Comparison {
  SideStats primary, standby;
  std::optional<RatioInterval> ratio;  // standby/primary; absent below min_samples
  std::optional<RankTest> rank;
  Verdict verdict = Verdict::kInconclusive;
  std::string why;  // what decided it, in words
};

// Compares the standby's latencies with the primary's. Neither may be
// empty.
Comparison Compare(const std::vector<double>& primary, const std::vector<double>& standby,
                   const CompareRules& rules);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_STATS_H_
