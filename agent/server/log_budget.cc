#include "agent/server/log_budget.h"

#include <utility>

namespace sb::agent {

void LogBudget::Roll(Clock::time_point now) {
  if (now - window_start_ < window_) return;
  unreported_ += std::exchange(suppressed_, 0);
  window_start_ = now;
  used_ = 0;
}

bool LogBudget::Take(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Roll(now);
  if (used_ < lines_) {
    ++used_;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t LogBudget::TakeSuppressed(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  Roll(now);
  return std::exchange(unreported_, 0);
}

}  // namespace sb::agent
