#include "standby/drill/lease_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "standby/drill/backoff.h"

namespace sb::drill {

LeaseKeeper::LeaseKeeper(client::AgentTarget target, const net::TlsContext& tls, std::string holder,
                         std::chrono::milliseconds ttl)
    : target_(std::move(target)), tls_(tls), holder_(std::move(holder)), ttl_(ttl) {}

LeaseKeeper::~LeaseKeeper() { Stop(false); }

base::Status LeaseKeeper::Renew() {
  if (client_ == nullptr) {
    client::ClientOptions options;
    options.connect_timeout =
        std::min<std::chrono::milliseconds>(ttl_ / 3, std::chrono::seconds(10));
    options.request_timeout = options.connect_timeout;
    base::Result<std::unique_ptr<client::AgentClient>> c =
        client::AgentClient::Connect(target_, tls_, options);
    if (!c.ok()) return c.status();
    client_ = std::move(*c);
  }
  base::Result<nlohmann::json> r =
      client_->Call(proto::type::kLease, {{"holder", holder_}, {"ttl_ms", ttl_.count()}});
  if (!r.ok()) {
    client_.reset();  // reconnect next time
    return r.status();
  }
  return base::Status::Ok();
}

base::Status LeaseKeeper::Start() {
  base::Status s = Renew();
  if (!s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  return base::Status::Ok();
}

void LeaseKeeper::Run() {
  const auto period = ttl_ / 3;
  auto next = std::chrono::steady_clock::now() + period;
  // Retries fit well inside the lease: at most a quarter of a period apart.
  auto fresh_backoff = [period] {
    return Backoff(std::chrono::milliseconds(200), period / 4 + std::chrono::milliseconds(1));
  };
  Backoff backoff = fresh_backoff();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    base::Status s = Renew();
    lock.lock();
    if (s.ok()) {
      ++renewals_;
      next = std::chrono::steady_clock::now() + period;
      backoff = fresh_backoff();
    } else {
      ++failed_;
      spdlog::warn("lease renewal failed (the standby shuts itself down if this goes on): {}",
                   s.message());
      next = std::chrono::steady_clock::now() + backoff.Next();
    }
  }
}

void LeaseKeeper::Stop(bool release) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (release && client_ != nullptr) {
    base::Result<nlohmann::json> r =
        client_->Call(proto::type::kLease, {{"holder", holder_}, {"release", true}});
    if (!r.ok()) spdlog::warn("could not release the lease: {}", r.status().message());
  }
  client_.reset();
}

int LeaseKeeper::renewals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return renewals_;
}

int LeaseKeeper::failed_renewals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

}  // namespace sb::drill
