#include "standby/drill/stats.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

namespace sb::drill {
namespace {

// The sample at quantile q of sorted `v` (nearest rank).
double Quantile(const std::vector<double>& sorted, double q) {
  const double at = q * static_cast<double>(sorted.size() - 1);
  return sorted[static_cast<size_t>(std::floor(at + 0.5))];
}

// One resample of `v` with replacement, drawn from `rng`: its median.
// `rng() % n` rather than a distribution: mt19937_64 is the same
// everywhere, the distributions are not.
double ResampledMedian(const std::vector<double>& v, std::mt19937_64& rng,
                       std::vector<double>& scratch) {
  scratch.resize(v.size());
  for (double& x : scratch) x = v[rng() % v.size()];
  return MedianOf(scratch);
}

}  // namespace

double MedianOf(std::vector<double> v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

SideStats Describe(const std::vector<double>& samples) {
  SideStats s;
  s.n = samples.size();
  s.median = MedianOf(samples);
  if (s.n >= kMinSamplesForP95) {
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    s.p95 = Quantile(sorted, 0.95);
  }
  std::vector<double> deviations;
  deviations.reserve(s.n);
  for (double x : samples) deviations.push_back(std::fabs(x - s.median));
  const double mad = MedianOf(deviations);
  if (mad > 0) {
    s.outliers = static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [&](double x) {
      return 0.6745 * std::fabs(x - s.median) / mad > 3.5;
    }));
  }
  return s;
}

RatioInterval BootstrapMedianRatio(const std::vector<double>& a, const std::vector<double>& b,
                                   int resamples, uint64_t seed) {
  auto ratio = [](double top, double bottom) { return top / std::max(bottom, 1.0); };
  RatioInterval r;
  r.ratio = ratio(MedianOf(b), MedianOf(a));
  r.resamples = resamples;
  r.seed = seed;
  std::mt19937_64 rng(seed);
  std::vector<double> ratios, scratch;
  ratios.reserve(static_cast<size_t>(resamples));
  for (int i = 0; i < resamples; ++i) {
    const double ma = ResampledMedian(a, rng, scratch);
    const double mb = ResampledMedian(b, rng, scratch);
    ratios.push_back(ratio(mb, ma));
  }
  std::sort(ratios.begin(), ratios.end());
  r.low = Quantile(ratios, 0.025);
  r.high = Quantile(ratios, 0.975);
  return r;
}

RankTest MannWhitney(const std::vector<double>& a, const std::vector<double>& b) {
  struct Item {
    double x;
    bool from_a;
  };
  std::vector<Item> all;
  all.reserve(a.size() + b.size());
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(), [](const Item& l, const Item& r) { return l.x < r.x; });
  const double n1 = static_cast<double>(a.size());
  const double n2 = static_cast<double>(b.size());
  const double n = n1 + n2;
  double rank_sum_a = 0;
  double ties = 0;  // the sum of t^3 - t over groups of ties
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j].x == all[i].x) ++j;
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const double t = static_cast<double>(j - i);
    ties += t * t * t - t;
    for (size_t k = i; k < j; ++k) {
      if (all[k].from_a) rank_sum_a += mean_rank;
    }
    i = j;
  }
  RankTest r;
  r.u = rank_sum_a - n1 * (n1 + 1) / 2;
  const double mean = n1 * n2 / 2;
  const double variance = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)));
  if (variance <= 0) return r;  // every sample equal: no evidence either way
  const double z = std::max(0.0, std::fabs(r.u - mean) - 0.5) / std::sqrt(variance);
  r.p = std::erfc(z / std::sqrt(2.0));
  return r;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kStandbySlower:
      return "standby-slower";
    case Verdict::kPrimaryDegraded:
      return "primary-degraded";
    case Verdict::kEquivalent:
      return "equivalent";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

Comparison Compare(const std::vector<double>& primary, const std::vector<double>& standby,
                   const CompareRules& rules) {
  Comparison c;
  c.primary = Describe(primary);
  c.standby = Describe(standby);
  if (c.primary.n < rules.min_samples || c.standby.n < rules.min_samples) {
    c.why = fmt::format("fewer than {} samples a side (primary {}, standby {})", rules.min_samples,
                        c.primary.n, c.standby.n);
    return c;
  }
  c.ratio = BootstrapMedianRatio(primary, standby, rules.resamples, rules.seed);
  c.rank = MannWhitney(standby, primary);
  const RatioInterval& r = *c.ratio;
  const std::string interval = fmt::format("95% interval [{:.2f}, {:.2f}]", r.low, r.high);
  const bool significant = c.rank->p < rules.alpha;
  const double difference = std::fabs(c.standby.median - c.primary.median);
  if (difference < rules.min_difference) {
    c.verdict = Verdict::kEquivalent;
    c.why = fmt::format(
        "the medians differ by {:.0f} us, less than the min_difference of {:.0f} "
        "us ({}, p {:.2g})",
        difference, rules.min_difference, interval, c.rank->p);
  } else if (r.low > rules.slower_ratio && significant) {
    c.verdict = Verdict::kStandbySlower;
    c.why = fmt::format("the whole {} lies above {:.2f}, and the rank test agrees (p {:.2g})",
                        interval, rules.slower_ratio, c.rank->p);
  } else if (r.high < 1 / rules.slower_ratio && significant) {
    c.verdict = Verdict::kPrimaryDegraded;
    c.why = fmt::format("the whole {} lies below {:.2f}, and the rank test agrees (p {:.2g})",
                        interval, 1 / rules.slower_ratio, c.rank->p);
  } else if (r.low >= 1 - rules.noise_band && r.high <= 1 + rules.noise_band) {
    c.verdict = Verdict::kEquivalent;
    c.why = fmt::format("the whole {} lies within ±{:.0f}%", interval, rules.noise_band * 100);
  } else {
    c.why = fmt::format("the {} is neither within ±{:.0f}% nor beyond {:.2f} (p {:.2g})", interval,
                        rules.noise_band * 100, rules.slower_ratio, c.rank->p);
  }
  return c;
}

}  // namespace sb::drill
