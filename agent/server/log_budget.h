// A budget of log lines for one kind of event that a peer can cause at will
// (a refused connection, a failed handshake): at most `lines` a window; the
// rest are counted and summed up in one line when the next window opens, so
// an attacker reconnecting in a loop cannot flood the log. Thread-safe.

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

  struct Decision {
    bool log = false;         // log this event
    uint64_t suppressed = 0;  // events not logged in the window that just closed (log them too)
  };
  // One more event at `now`.
  Decision Take(Clock::time_point now = Clock::now());
  // When the window is over, the events it did not log (once), so a quiet
  // spell after a flood still gets its summary line; otherwise 0.
  uint64_t TakeSuppressed(Clock::time_point now = Clock::now());

 private:
  const int lines_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  Clock::time_point window_start_{};  // guarded by mu_
  int used_ = 0;                      // guarded by mu_
  uint64_t suppressed_ = 0;           // guarded by mu_
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_LOG_BUDGET_H_
