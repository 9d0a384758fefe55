// The standby agent's lease: the controller holds it while a drill works and
// renews it well before it runs out. When a lease runs out without being
// renewed or released (the controller was killed, the network was cut), the
// agent shuts its own host down, so a standby is never left on because its
// controller went away.
//
// One lease at a time: a holder (the controller's drill, "drill 42") takes
// it, renews it with the same holder name, and releases it. A different
// holder is refused while the lease is live. The watchdog thread sleeps
// until the deadline (steady clock) and calls `on_expiry` once per expired
// lease, outside the lock. Thread-safe.
#ifndef AGENT_SERVER_LEASE_H_
#define AGENT_SERVER_LEASE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/base/status.h"

namespace sb::agent {

class LeaseWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  // Called with a sentence saying which lease ran out and when.
  using ExpiryAction = std::function<void(const std::string& why)>;

  explicit LeaseWatchdog(ExpiryAction on_expiry);
  ~LeaseWatchdog();  // stops the thread; a live lease does not fire
  LeaseWatchdog(const LeaseWatchdog&) = delete;
  LeaseWatchdog& operator=(const LeaseWatchdog&) = delete;

  // Takes or renews the lease for `ttl` from now. kFailedPrecondition
  // naming the current holder when someone else holds it.
  base::Status Hold(const std::string& holder, std::chrono::milliseconds ttl);
  // Gives the lease up; kFailedPrecondition when `holder` does not hold it.
  base::Status Release(const std::string& holder);

  // The current holder, if a lease is live.
  std::optional<std::string> holder() const;
  int expirations() const;

  // Bounds a requested lease: at least 1 s, at most 1 day.
  static constexpr std::chrono::milliseconds kMinTtl{1'000};
  static constexpr std::chrono::milliseconds kMaxTtl{86'400'000};
  static constexpr size_t kMaxHolderBytes = 256;

 private:
  void Run();

  ExpiryAction on_expiry_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> holder_;  // guarded by mu_
  Clock::time_point deadline_{};       // guarded by mu_
  std::chrono::milliseconds ttl_{0};   // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  int expirations_ = 0;                // guarded by mu_
  std::thread thread_;
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_LEASE_H_
