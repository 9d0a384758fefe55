#include "tests/support/drill_fakes.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

namespace sb::testing {

// The fake epoch: 2026-12-01T00:00:00Z, monotonic 1000 s.
constexpr int64_t kWallStartMs = 1'796'083'200'000;
constexpr int64_t kMonoStartNs = 1'000'000'000'000;

store::Timestamp FakeClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return {kWallStartMs + elapsed_.count(), kMonoStartNs + elapsed_.count() * 1'000'000};
}

bool FakeClock::Wait(std::chrono::milliseconds d, const std::function<bool()>& interrupted) {
  // `interrupted` may read this clock: never called with mu_ held.
  if (interrupted()) return false;
  Advance(d);
  return !interrupted();
}

void FakeClock::Advance(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  elapsed_ += d;
}

std::chrono::milliseconds FakeClock::elapsed() {
  std::lock_guard<std::mutex> lock(mu_);
  return elapsed_;
}

base::Result<power::PowerReading> FakeStandby::Status() {
  return power::PowerReading{on ? power::PowerState::kOn : power::PowerState::kOff,
                             on ? "fake: on" : "fake: off"};
}

base::Status FakeStandby::On() {
  ++power_ons;
  if (login_refused) {
    return base::Status::PermissionDenied("fake BMC: login as \"drill\" refused; not retried");
  }
  if (failed_power_ons > 0) {
    --failed_power_ons;
    return base::Status::Unavailable("fake BMC: no answer");
  }
  on = true;
  return base::Status::Ok();
}

base::Status FakeStandby::Off() {
  ++hard_offs;
  if (!stuck_on) on = false;
  return base::Status::Ok();
}

base::Status FakeStandby::SoftOff() { return Off(); }

base::Status FakeStandby::Shutdown() {
  ++shutdowns;
  if (!on) return base::Status::Unavailable("fake agent: not reachable");
  if (!stuck_on) on = false;
  return base::Status::Ok();
}

base::Result<nlohmann::json> FakeSession::Call(std::string_view type, nlohmann::json body) {
  if (interrupted_) return base::Status::Unavailable("fake agent: interrupted");
  if (type == proto::type::kPing) return nlohmann::json::object();
  if (type == proto::type::kIndicators) {
    const size_t i = static_cast<size_t>(script_->indicator_reads++);
    if (script_->indicators.empty()) {
      host::Indicators calm;
      calm.cpus = 2;
      calm.load1 = 0.2;
      return host::ToJson(calm);
    }
    const nlohmann::json& j = script_->indicators[std::min(i, script_->indicators.size() - 1)];
    if (j.empty()) return base::Status::Unavailable("fake agent: indicators unreadable");
    return j;
  }
  if (type != proto::type::kRunCommand) {
    return base::Status::Invalid(fmt::format("fake agent: no {}", type));
  }
  const std::string name = body.value("name", "");
  const auto it = script_->exit_codes.find(name);
  const auto us = script_->duration_us.find(name);
  return nlohmann::json{{"exit_code", it == script_->exit_codes.end() ? 0 : it->second},
                        {"timed_out", false},
                        {"stderr", ""},
                        {"duration_us", us == script_->duration_us.end() ? 1000 : us->second}};
}

base::Result<restore::RestoreReport> FakeSession::Restore(const restore::RestoreSpec& spec) {
  if (script_->on_restore) script_->on_restore();
  for (int i = 0; script_->restore_blocks && !interrupted_ && i < 5000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (interrupted_) return base::Status::Unavailable("fake agent: interrupted");
  if (!script_->restore_error.empty()) return base::Status::IoError(script_->restore_error);
  restore::RestoreReport r;
  r.spec = spec;
  r.literal_bytes = script_->literal_bytes;
  r.wire_bytes = script_->literal_bytes;
  r.source_digest = r.target_digest = "fake-digest";
  r.hash_cache_used = r.full_baseline = true;
  r.drift = script_->drift;
  r.drift_counts = sync::CountDrift(r.drift);
  if (spec.on_drift && !r.drift.empty()) spec.on_drift(r.drift);
  return r;
}

base::Result<std::unique_ptr<drill::AgentSession>> FakeDialer::Dial(
    const client::AgentTarget& target, std::chrono::milliseconds connect_timeout) {
  if (target.endpoint.host != standby_host_) {
    ++primary_dials;
    if (!primary_answers) return base::Status::Unavailable("fake primary: connection refused");
    return std::unique_ptr<drill::AgentSession>(std::make_unique<FakeSession>(&primary_script));
  }
  ++standby_dials;
  if (standby_never_answers || !standby_.on || boot_dials > 0) {
    if (standby_.on && boot_dials > 0) --boot_dials;
    clock_.Advance(connect_timeout);
    return base::Status::Timeout("fake standby: no answer");
  }
  return std::unique_ptr<drill::AgentSession>(std::make_unique<FakeSession>(&script));
}

base::Status FakeLease::Take(const std::string& h) {
  if (!refuse.empty()) return base::Status::FailedPrecondition(refuse);
  holder = h;
  renewing = true;
  return base::Status::Ok();
}

int FakeLease::StopRenewing() {
  const bool was = renewing;
  renewing = false;
  return was ? renewals : 0;
}

drill::CheckRun FakeSmoke::Run(const config::SmokeCheck& check, const drill::CheckTarget& target,
                               drill::AgentSession* standby) {
  drill::CheckRun run;
  store::CheckResultRecord& r = run.result;
  r.name = check.name;
  r.kind = std::string(config::CheckKindName(check.kind));
  last_target = target;
  if (target.now_wall_ms) first_run_wall_ms.try_emplace(check.name, target.now_wall_ms());
  if (auto t = ttl.find(check.name); t != ttl.end()) run.max_ttl = t->second;
  if (auto c = primary_connections.find(check.name); c != primary_connections.end()) {
    primary_budgets.push_back(target.primary_connections_left);
    run.primary_connections = run.primary_requests = c->second;
  }
  const int n = ++runs[check.name];
  const auto it = failing.find(check.name);
  const bool fails = it != failing.end() && (it->second < 0 || n <= it->second);
  if (standby == nullptr) {
    r.outcome = store::CheckOutcome::kNotRun;
    r.detail = "no connection to the standby's agent";
  } else {
    r.outcome = fails ? store::CheckOutcome::kFailed : store::CheckOutcome::kPassed;
    r.detail = fails ? "fake: failed" : "fake: passed";
    run.permanent = fails && permanent.count(check.name) > 0;
  }
  return run;
}

namespace {

class FakeRequester : public drill::Requester {
 public:
  explicit FakeRequester(FakeProbes& probes) : probes_(probes) {}
  base::Result<drill::HttpResponse> Get(const std::string& url,
                                        std::chrono::milliseconds) override {
    const bool primary = url.find("primary") != std::string::npos;
    probes_.order.emplace_back(primary ? "p" : "s");
    if (requests_++ % probes_.requests_per_connection == 0) ++connections_;
    if (!primary && probes_.standby_fails) {
      return base::Status::Unavailable(fmt::format("GET {}: fake: refused", url));
    }
    drill::HttpResponse r;
    r.status = 200;
    r.elapsed = std::chrono::microseconds(primary ? probes_.primary_us : probes_.standby_us);
    return r;
  }
  int64_t connections() const override { return connections_; }

 private:
  FakeProbes& probes_;
  int64_t requests_ = 0;
  int64_t connections_ = 0;
};

}  // namespace

std::unique_ptr<drill::Requester> FakeProbes::Open() {
  ++opened;
  return std::make_unique<FakeRequester>(*this);
}

}  // namespace sb::testing
