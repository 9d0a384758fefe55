// A budget of log lines for one kind of event that a peer can cause at will
// (a refused connection, a failed handshake): at most `lines` a window; the
// rest are counted, for one summary line its owner logs now and then, so an
// attacker reconnecting in a loop cannot flood the log. Pure (the time is a
// parameter); thread-safe.

#ifndef AGENT_SERVER_LOG_BUDGET_H_
#define AGENT_SERVER_LOG_BUDGET_H_

#include <chrono>
#include <cstdint>
#include <mutex>

namespace sb::agent {

class LogBudget {
 public:
  using Clock = std::chrono::steady_clock;

  LogBudget(int lines, std::chrono::milliseconds window) : lines_(lines), window_(window) {}

  // One more event at `now`: whether to log it.
  bool Take(Clock::time_point now = Clock::now());
  // The events not logged in windows that are over at `now`, each counted
  // once: what a summary line reports. 0 while the window still runs.
  uint64_t TakeSuppressed(Clock::time_point now = Clock::now());

  std::chrono::milliseconds window() const { return window_; }

 private:
  // Opens a new window when the current one is over. With mu_ held.
  void Roll(Clock::time_point now);

  const int lines_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  Clock::time_point window_start_{};  // guarded by mu_
  int used_ = 0;                      // guarded by mu_
  uint64_t suppressed_ = 0;           // in this window; guarded by mu_
  uint64_t unreported_ = 0;           // in windows over; guarded by mu_
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_LOG_BUDGET_H_
