// The controller's side of the agent's lease (agent/server/lease.h): takes
// the lease once, then renews it from its own thread and connection every
// third of its length, so that a restore busy on the drill's connection
// never delays a renewal. A failed renewal is retried with backoff within
// the remaining time; if renewals keep failing the agent's lease runs out
// and the standby shuts itself down, which is the point.
#ifndef STANDBY_DRILL_LEASE_KEEPER_H_
#define STANDBY_DRILL_LEASE_KEEPER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "agent/client/agent_client.h"

namespace sb::drill {

class LeaseKeeper {
 public:
  // `tls` must outlive the keeper.
  LeaseKeeper(client::AgentTarget target, const net::TlsContext& tls, std::string holder,
              std::chrono::milliseconds ttl);
  ~LeaseKeeper();  // stops renewing (does not release)
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // Takes the lease now (errors name the agent) and starts renewing it.
  base::Status Start();
  // Stops renewing. With `release`, gives the lease up first (best effort).
  void Stop(bool release);

  int renewals() const;
  int failed_renewals() const;

 private:
  base::Status Renew();
  void Run();

  client::AgentTarget target_;
  const net::TlsContext& tls_;
  std::string holder_;
  std::chrono::milliseconds ttl_;
  std::unique_ptr<client::AgentClient> client_;  // the renewal thread's

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  int renewals_ = 0;       // guarded by mu_
  int failed_ = 0;         // guarded by mu_
  std::thread thread_;
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_LEASE_KEEPER_H_
