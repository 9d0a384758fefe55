#include "agent/server/log_budget.h"

namespace sb::agent {

LogBudget::Decision LogBudget::Take(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Decision d;
  if (now - window_start_ >= window_) {
    d.suppressed = suppressed_;
    window_start_ = now;
    used_ = 0;
    suppressed_ = 0;
  }
  if (used_ < lines_) {
    ++used_;
    d.log = true;
  } else {
    ++suppressed_;
  }
  return d;
}

uint64_t LogBudget::TakeSuppressed(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now - window_start_ < window_ || suppressed_ == 0) return 0;
  const uint64_t n = suppressed_;
  suppressed_ = 0;
  return n;
}

}  // namespace sb::agent
