// The drill's guard: the standby's max_exposure deadline and the caller's
// stop request (SIGINT/SIGTERM), read on the clock port. The drill asks
// Tripped() between steps and sleeps through Sleep(), which a trip cuts
// short; a watcher thread breaks the watched agent session when the guard
// trips during a call that blocks (a restore in progress), so the drill
// reaches its shutdown at once.
#ifndef STANDBY_DRILL_GUARD_H_
#define STANDBY_DRILL_GUARD_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "standby/drill/ports.h"

namespace sb::drill {

class Guard {
 public:
  // `stop` (may be null) is set to a signal number by the caller's signal
  // handling. Both `clock` and `stop` must outlive the guard.
  Guard(Clock& clock, const std::atomic<int>* stop);
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  // From now on the guard trips at `deadline_mono_ns` (the clock's
  // monotonic time), saying `what`.
  void SetDeadline(int64_t deadline_mono_ns, std::string what);
  // Stops watching: the shutdown must never be interrupted. A trip that
  // already happened is kept.
  void Disarm();
  // The session broken when the guard trips (null: none).
  void Watch(AgentSession* session);

  // Why the drill must stop now, or empty.
  std::string Tripped();
  // Whether the trip was a stop request (the drill is then "aborted").
  bool by_signal();
  // Waits up to `d` on the clock; false when the guard tripped first.
  bool Sleep(std::chrono::milliseconds d);

 private:
  // Sets why_ when a stop or the deadline has come. With mu_ held.
  void Check();
  void Watcher();

  Clock& clock_;
  const std::atomic<int>* stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<int64_t> deadline_ns_;  // guarded by mu_
  std::string deadline_what_;           // guarded by mu_
  AgentSession* session_ = nullptr;     // guarded by mu_
  std::string why_;                     // guarded by mu_
  bool by_signal_ = false;              // guarded by mu_
  bool armed_ = true;                   // guarded by mu_
  bool done_ = false;                   // guarded by mu_
  std::thread watcher_;
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_GUARD_H_
