#include "standby/drill/live_ports.h"

#include <algorithm>
#include <thread>

#include "standby/drill/checks.h"

namespace sb::drill {
namespace {

// An AgentClient as the drill's AgentSession.
class ClientSession : public AgentSession {
 public:
  explicit ClientSession(std::unique_ptr<client::AgentClient> client)
      : client_(std::move(client)) {}

  base::Result<nlohmann::json> Call(std::string_view type, nlohmann::json body) override {
    return client_->Call(type, std::move(body));
  }
  base::Result<restore::RestoreReport> Restore(const restore::RestoreSpec& spec) override {
    return restore::RunRestore(*client_, spec);
  }
  void Interrupt() override { client_->Interrupt(); }
  std::optional<int64_t> CertificateNotAfterMs() const override {
    return client_->hello().cert_not_after_ms;
  }

 private:
  std::unique_ptr<client::AgentClient> client_;
};

}  // namespace

store::Timestamp SystemClock::Now() { return store::Timestamp::Now(); }

bool SystemClock::Wait(std::chrono::milliseconds d, const std::function<bool()>& interrupted) {
  using std::chrono::steady_clock;
  const steady_clock::time_point end = steady_clock::now() + d;
  for (;;) {
    if (interrupted()) return false;
    const steady_clock::time_point now = steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(
        std::min<steady_clock::duration>(end - now, std::chrono::milliseconds(100)));
  }
}

base::Result<std::unique_ptr<AgentSession>> TlsDialer::Dial(
    const client::AgentTarget& target, std::chrono::milliseconds connect_timeout) {
  client::ClientOptions options;
  options.connect_timeout = connect_timeout;
  options.request_timeout = std::chrono::minutes(10);  // a commit may hash a large target
  base::Result<std::unique_ptr<client::AgentClient>> c =
      client::AgentClient::Connect(target, tls_, options);
  if (!c.ok()) return c.status();
  return std::unique_ptr<AgentSession>(std::make_unique<ClientSession>(std::move(*c)));
}

base::Status KeptLease::Take(const std::string& holder) {
  keeper_ = std::make_unique<LeaseKeeper>(target_, tls_, holder, ttl_);
  return keeper_->Start();
}

int KeptLease::StopRenewing() {
  if (keeper_ == nullptr) return 0;
  keeper_->Stop(false);
  return keeper_->renewals();
}

CheckRun CheckRunner::Run(const config::SmokeCheck& check, const CheckTarget& target,
                          AgentSession* standby) {
  return RunSmokeCheck(check, target, standby);
}

std::unique_ptr<Requester> CurlRequesters::Open() { return std::make_unique<CurlRequester>(); }

}  // namespace sb::drill
