// Exponential backoff with jitter for retrying a peer that did not answer:
// each delay doubles up to `max`, and is drawn uniformly from its upper half
// so that several controllers never retry in step. A value; one thread.
#ifndef STANDBY_DRILL_BACKOFF_H_
#define STANDBY_DRILL_BACKOFF_H_

#include <algorithm>
#include <chrono>
#include <random>

namespace sb::drill {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : next_(initial), max_(max), rng_(std::random_device{}()) {}

  // The delay before the next attempt.
  std::chrono::milliseconds Next() {
    const auto d = next_;
    next_ = std::min(max_, next_ * 2);
    std::uniform_int_distribution<int64_t> half(d.count() / 2, d.count());
    return std::chrono::milliseconds(half(rng_));
  }

 private:
  std::chrono::milliseconds next_, max_;
  std::mt19937_64 rng_;
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_BACKOFF_H_
