#include "agent/server/lease.h"

#include <fmt/format.h>

#include "agent/base/quote.h"
#include "agent/base/units.h"

namespace sb::agent {

LeaseWatchdog::LeaseWatchdog(ExpiryAction on_expiry) : on_expiry_(std::move(on_expiry)) {
  thread_ = std::thread([this] { Run(); });
}

LeaseWatchdog::~LeaseWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

base::Status LeaseWatchdog::Hold(const std::string& holder, std::chrono::milliseconds ttl) {
  if (holder.empty() || holder.size() > kMaxHolderBytes) {
    return base::Status::Invalid(fmt::format("Lease: the holder must be 1 to {} bytes, not {}",
                                             kMaxHolderBytes, holder.size()));
  }
  if (ttl < kMinTtl || ttl > kMaxTtl) {
    return base::Status::Invalid(fmt::format("Lease: ttl_ms {} is outside {}..{}", ttl.count(),
                                             kMinTtl.count(), kMaxTtl.count()));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (holder_ && *holder_ != holder) {
      return base::Status::FailedPrecondition(fmt::format(
          "the lease is held by {} for another {}", base::Quote(*holder_),
          base::FormatDuration(
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()))));
    }
    holder_ = holder;
    ttl_ = ttl;
    deadline_ = Clock::now() + ttl;
  }
  cv_.notify_all();
  return base::Status::Ok();
}

base::Status LeaseWatchdog::Release(const std::string& holder) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!holder_ || *holder_ != holder) {
      return base::Status::FailedPrecondition(
          fmt::format("{} holds no lease here{}", base::Quote(holder),
                      holder_ ? fmt::format(" ({} does)", base::Quote(*holder_)) : std::string()));
    }
    holder_.reset();
  }
  cv_.notify_all();
  return base::Status::Ok();
}

std::optional<std::string> LeaseWatchdog::holder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return holder_;
}

int LeaseWatchdog::expirations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expirations_;
}

void LeaseWatchdog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (!holder_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, deadline_) != std::cv_status::timeout) continue;
    if (stopping_ || !holder_ || Clock::now() < deadline_) continue;
    std::string why = fmt::format("the lease held by {} ran out: not renewed within {}",
                                  base::Quote(*holder_), base::FormatDuration(ttl_));
    holder_.reset();
    ++expirations_;
    lock.unlock();
    on_expiry_(why);
    lock.lock();
  }
}

}  // namespace sb::agent
