#include "standby/drill/drill.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "agent/host/host_info.h"
#include "standby/drill/backoff.h"
#include "standby/drill/checks.h"
#include "standby/drill/lease_keeper.h"
#include "standby/power/confirmed_off.h"
#include "standby/restore/restore_record.h"
#include "standby/restore/source.h"

namespace sb::drill {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using store::PhaseOutcome;

int64_t MsBetween(const store::Timestamp& a, const store::Timestamp& b) {
  return (b.mono_ns - a.mono_ns) / 1'000'000;
}

// Watches the standby's deadline and the caller's stop flag from its own
// thread. When either trips, it breaks the registered agent connection so a
// blocked request ends now; the drill checks tripped() between steps.
class Guard {
 public:
  explicit Guard(const std::atomic<int>* stop) : stop_(stop) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Guard() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void SetDeadline(Clock::time_point deadline, std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    deadline_ = deadline;
    deadline_what_ = std::move(what);
  }
  // Stops watching: the shutdown phase must never be interrupted.
  void Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
    client_ = nullptr;
  }
  void Watch(client::AgentClient* client) {
    std::lock_guard<std::mutex> lock(mu_);
    client_ = client;
    if (client_ != nullptr && !why_.empty()) client_->Interrupt();
  }
  // Why the drill must stop now, or empty.
  std::string tripped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return why_;
  }
  bool aborted_by_signal() const {
    std::lock_guard<std::mutex> lock(mu_);
    return by_signal_;
  }
  // Sleeps up to `d`; false when the guard tripped first.
  bool Sleep(milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, d, [this] { return !why_.empty() || done_; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      cv_.wait_for(lock, milliseconds(100));
      if (!armed_ || !why_.empty()) continue;
      const int sig = stop_ != nullptr ? stop_->load() : 0;
      if (sig != 0) {
        why_ = fmt::format("stopped by {}", sig == SIGINT    ? "SIGINT"
                                            : sig == SIGTERM ? "SIGTERM"
                                                             : "a signal");
        by_signal_ = true;
      } else if (deadline_ && Clock::now() >= *deadline_) {
        why_ = deadline_what_;
      }
      if (!why_.empty()) {
        spdlog::warn("drill: {}; going to shutdown", why_);
        if (client_ != nullptr) client_->Interrupt();
        cv_.notify_all();
      }
    }
  }

  const std::atomic<int>* stop_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Clock::time_point> deadline_;  // guarded by mu_
  std::string deadline_what_;                  // guarded by mu_
  client::AgentClient* client_ = nullptr;      // guarded by mu_
  std::string why_;                            // guarded by mu_
  bool by_signal_ = false;                     // guarded by mu_
  bool armed_ = true;                          // guarded by mu_
  bool done_ = false;                          // guarded by mu_
  std::thread thread_;
};

// The drill's state as its phases run.
class Drill {
 public:
  Drill(const DrillEnv& env, const DrillOptions& options)
      : env_(env), options_(options), guard_(options.stop) {}

  base::Result<DrillSummary> Run();

 private:
  // One phase: recorded when it starts and when it ends.
  struct Phase {
    int64_t id = 0;
    PhaseView view;
    store::Timestamp started;
  };
  Phase Begin(const std::string& name);
  void End(Phase& phase, PhaseOutcome outcome, std::string reason);
  // Ends `phase` as failed (or aborted, when the guard tripped) and notes
  // the drill's failure; returns false for `if (!Fail(...)) return`.
  bool Fail(Phase& phase, std::string reason);
  void Event(std::string_view level, const std::string& message);

  bool Preflight();
  bool PowerOn();
  bool Boot();
  bool Lease();
  bool Restore();
  bool Smoke();
  bool Compare();
  void Shutdown();

  base::Result<std::unique_ptr<client::AgentClient>> ConnectPrimary();

  const DrillEnv& env_;
  const DrillOptions& options_;
  Guard guard_;
  DrillSummary summary_;
  std::optional<store::Timestamp> power_on_at_;
  std::optional<store::Timestamp> smoke_passed_at_;
  std::optional<int64_t> oldest_source_ms_;  // the RPO input
  std::unique_ptr<client::AgentClient> agent_;
  std::unique_ptr<LeaseKeeper> lease_;
  std::string failed_phase_, failure_;
};

Drill::Phase Drill::Begin(const std::string& name) {
  Phase p;
  p.view.name = name;
  p.started = store::Timestamp::Now();
  base::Result<int64_t> id = env_.store.BeginPhase(summary_.drill_id, name, p.started);
  if (id.ok()) {
    p.id = *id;
  } else {
    spdlog::error("drill {}: could not record phase {}: {}", summary_.drill_id, name,
                  id.status().message());
  }
  spdlog::info("drill {}: {} started", summary_.drill_id, name);
  if (options_.on_phase) options_.on_phase(p.view);
  return p;
}

void Drill::End(Phase& p, PhaseOutcome outcome, std::string reason) {
  const store::Timestamp now = store::Timestamp::Now();
  p.view.outcome = outcome;
  p.view.reason = std::move(reason);
  p.view.duration_ms = MsBetween(p.started, now);
  if (p.id != 0) {
    base::Status s = env_.store.EndPhase(p.id, outcome, p.view.reason, now);
    if (!s.ok())
      spdlog::error("drill {}: could not record the end of {}: {}", summary_.drill_id, p.view.name,
                    s.message());
  }
  spdlog::info("drill {}: {} {}{}{}", summary_.drill_id, p.view.name,
               store::PhaseOutcomeName(outcome), p.view.reason.empty() ? "" : ": ", p.view.reason);
  summary_.phases.push_back(p.view);
  if (options_.on_phase) options_.on_phase(p.view);
}

bool Drill::Fail(Phase& p, std::string reason) {
  std::string why = guard_.tripped();
  if (!why.empty()) {
    reason = why + (reason.empty() ? "" : " (" + reason + ")");
  }
  End(p,
      why.empty() || !guard_.aborted_by_signal() ? PhaseOutcome::kFailed : PhaseOutcome::kAborted,
      reason);
  failed_phase_ = p.view.name;
  failure_ = reason;
  return false;
}

void Drill::Event(std::string_view level, const std::string& message) {
  (void)env_.store.AddEvent(summary_.drill_id, level, message, store::Timestamp::Now().wall_ms);
}

// ---- preflight ----------------------------------------------------------

bool Drill::Preflight() {
  Phase p = Begin("preflight");
  std::vector<std::string> notes;
  for (const config::RestoreMapping& m : env_.standby.restores) {
    base::Result<SourceAge> age = ReadSourceAge(m);
    if (!age.ok()) return Fail(p, age.status().message());
    const int64_t age_ms = store::Timestamp::Now().wall_ms - age->newest_wall_ms;
    if (m.max_age && age_ms > m.max_age->count()) {
      return Fail(p, fmt::format("backup {} is {} old ({}), older than its max_age of {}", m.source,
                                 base::FormatDuration(milliseconds(age_ms)), age->from,
                                 base::FormatDuration(*m.max_age)));
    }
    if (!oldest_source_ms_ || age->newest_wall_ms < *oldest_source_ms_) {
      oldest_source_ms_ = age->newest_wall_ms;
      summary_.rpo_from = fmt::format("{} of {}", age->from, m.source);
    }
  }
  if (oldest_source_ms_) {
    notes.push_back(fmt::format(
        "backup age {}",
        base::FormatDuration(milliseconds(store::Timestamp::Now().wall_ms - *oldest_source_ms_))));
  }
  if (env_.config.primary) {
    base::Result<std::unique_ptr<client::AgentClient>> primary = ConnectPrimary();
    if (!primary.ok()) {
      return Fail(
          p, fmt::format("the primary's agent is not reachable: {}", primary.status().message()));
    }
    notes.push_back(fmt::format("primary agent {} answers", env_.config.primary->name));
  }
  base::Result<power::PowerReading> state = env_.power.Status();
  if (state.ok() && state->state == power::PowerState::kOn) {
    return Fail(p, fmt::format("the standby is already on ({}); a drill starts from a powered-off "
                               "standby. If nobody is using it: standbyctl power off --standby {}",
                               state->how, env_.standby.name));
  }
  if (!state.ok() && env_.standby.power.driver == config::PowerDriverKind::kIpmi) {
    return Fail(p,
                fmt::format("cannot read the standby's power state: {}", state.status().message()));
  }
  End(p, PhaseOutcome::kPassed, fmt::format("{}", fmt::join(notes, "; ")));
  return true;
}

base::Result<std::unique_ptr<client::AgentClient>> Drill::ConnectPrimary() {
  const config::PrimaryConfig& primary = *env_.config.primary;
  if (summary_.outcome.primary_connections >= primary.max_sessions) {
    return base::Status::FailedPrecondition(fmt::format(
        "the cap of {} sessions to the primary for one drill is reached", primary.max_sessions));
  }
  ++summary_.outcome.primary_connections;
  ++summary_.outcome.primary_requests;  // Hello
  client::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(10);
  return client::AgentClient::Connect({primary.agent, primary.agent_name}, env_.tls, options);
}

// ---- power on, boot, lease -------------------------------------------------

bool Drill::PowerOn() {
  Phase p = Begin("power on");
  power_on_at_ = store::Timestamp::Now();
  summary_.powered_on = true;
  guard_.SetDeadline(Clock::now() + env_.standby.max_exposure,
                     fmt::format("the standby's max_exposure of {} was reached",
                                 base::FormatDuration(env_.standby.max_exposure)));
  Backoff backoff(milliseconds(1'000), milliseconds(8'000));
  base::Status s;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    s = env_.power.On();
    if (s.ok()) break;
    spdlog::warn("power on attempt {} of 3 failed: {}", attempt, s.message());
    if (attempt < 3 && !guard_.Sleep(backoff.Next())) break;
  }
  if (!s.ok()) return Fail(p, fmt::format("power on failed: {}", s.message()));
  End(p, PhaseOutcome::kPassed, fmt::format("requested through {}", env_.power.name()));
  return true;
}

bool Drill::Boot() {
  Phase p = Begin("boot");
  const auto deadline = Clock::now() + env_.standby.boot_timeout;
  Backoff backoff(milliseconds(250), std::max(milliseconds(250), options_.poll_interval * 2));
  int attempts = 0;
  std::string last;
  client::ClientOptions copts;
  copts.connect_timeout = std::chrono::seconds(5);
  copts.request_timeout = std::chrono::minutes(10);  // a commit may hash a large target
  while (guard_.tripped().empty()) {
    ++attempts;
    base::Result<std::unique_ptr<client::AgentClient>> c = client::AgentClient::Connect(
        {env_.standby.agent, env_.standby.agent_name}, env_.tls, copts);
    if (c.ok()) {
      agent_ = std::move(*c);
      guard_.Watch(agent_.get());
      const int64_t boot_ms = MsBetween(*power_on_at_, store::Timestamp::Now());
      summary_.outcome.boot_ms = boot_ms;
      End(p, PhaseOutcome::kPassed,
          fmt::format("agent answered after {} ({} attempt{})",
                      base::FormatDuration(milliseconds(boot_ms)), attempts,
                      attempts == 1 ? "" : "s"));
      return true;
    }
    last = c.status().message();
    milliseconds wait = backoff.Next();
    if (Clock::now() + wait >= deadline) {
      return Fail(p, fmt::format("the agent did not answer within the boot_timeout of {} ({} "
                                 "attempts; last: {})",
                                 base::FormatDuration(env_.standby.boot_timeout), attempts, last));
    }
    guard_.Sleep(wait);
  }
  return Fail(p, last);
}

bool Drill::Lease() {
  Phase p = Begin("lease");
  lease_ = std::make_unique<LeaseKeeper>(
      client::AgentTarget{env_.standby.agent, env_.standby.agent_name}, env_.tls,
      LeaseHolder(summary_.drill_id), env_.standby.lease);
  base::Status s = lease_->Start();
  if (!s.ok()) return Fail(p, fmt::format("the agent would not take the lease: {}", s.message()));
  End(p, PhaseOutcome::kPassed,
      fmt::format("held for {}, renewed every {}; the standby shuts itself down if renewals stop",
                  base::FormatDuration(env_.standby.lease),
                  base::FormatDuration(env_.standby.lease / 3)));
  return true;
}

// ---- restore, smoke, compare ----------------------------------------------

bool Drill::Restore() {
  Phase p = Begin("restore");
  if (env_.standby.restores.empty()) {
    End(p, PhaseOutcome::kSkipped, "no restore mappings configured");
    return true;
  }
  int64_t wire = 0, literal = 0, drift = 0, changed = 0;
  for (const config::RestoreMapping& m : env_.standby.restores) {
    if (!guard_.tripped().empty()) return Fail(p, "");
    base::Result<restore::RestoreReport> r =
        restore::RunRestore(*agent_, restore::SpecFor(env_.config, m));
    if (!r.ok()) {
      // The message ends saying what the target holds now.
      return Fail(p, fmt::format("{} -> {}: {}", m.source, m.target, r.status().message()));
    }
    const store::RestoreStatsRecord stats =
        restore::StatsOf(env_.standby.name, *r, summary_.drill_id, store::Timestamp::Now().wall_ms);
    base::Status saved = env_.store.AddRestoreStats(stats);
    if (!saved.ok()) spdlog::error("could not record restore statistics: {}", saved.message());
    wire += stats.bytes_wire;
    literal += stats.bytes_literal;
    drift += stats.drift_count;
    changed += stats.files_changed + stats.files_new + stats.files_deleted;
    summary_.restores.push_back(std::move(*r));
  }
  End(p, PhaseOutcome::kPassed,
      fmt::format("{} mapping{}: {} entries changed, {} literal, {} on the wire, {} drifted",
                  env_.standby.restores.size(), env_.standby.restores.size() == 1 ? "" : "s",
                  changed, base::FormatSize(static_cast<uint64_t>(literal)),
                  base::FormatSize(static_cast<uint64_t>(wire)), drift));
  summary_.outcome.restore_ms = summary_.phases.back().duration_ms;
  return true;
}

bool Drill::Smoke() {
  Phase p = Begin("smoke");
  if (env_.standby.checks.empty()) {
    // Nothing proves the standby could take over: never a pass.
    return Fail(p, "no checks configured");
  }
  // Services start after the agent does: a failing check is tried again,
  // with backoff, until every check has passed or smoke_timeout is over.
  // Each check's last result is what is recorded.
  const size_t n = env_.standby.checks.size();
  std::vector<std::optional<store::CheckResultRecord>> last(n);
  std::vector<int> attempts(n, 0);
  const auto deadline = Clock::now() + env_.standby.smoke_timeout;
  Backoff backoff(milliseconds(250), milliseconds(5'000));
  for (;;) {
    bool all_passed = true;
    for (size_t i = 0; i < n; ++i) {
      if (last[i] && last[i]->outcome == store::CheckOutcome::kPassed) continue;
      if (!guard_.tripped().empty()) break;
      ++attempts[i];
      last[i] = RunSmokeCheck(env_.standby.checks[i], agent_.get());
      if (last[i]->outcome != store::CheckOutcome::kPassed) all_passed = false;
    }
    if (all_passed || !guard_.tripped().empty()) break;
    const milliseconds wait = backoff.Next();
    if (Clock::now() + wait >= deadline || !guard_.Sleep(wait)) break;
  }
  int passed = 0;
  std::vector<std::string> failed;
  for (size_t i = 0; i < n; ++i) {
    if (!last[i]) continue;  // interrupted before it ran
    store::CheckResultRecord& r = *last[i];
    if (attempts[i] > 1) r.detail += fmt::format(" (attempt {})", attempts[i]);
    base::Status saved = env_.store.AddCheckResult(summary_.drill_id, r);
    if (!saved.ok()) spdlog::error("could not record check {}: {}", r.name, saved.message());
    spdlog::info("check {}: {} ({})", r.name, store::CheckOutcomeName(r.outcome), r.detail);
    if (r.outcome == store::CheckOutcome::kPassed) {
      ++passed;
    } else {
      failed.push_back(fmt::format(
          "{} {}: {}", r.name,
          r.outcome == store::CheckOutcome::kNotRun ? "could not run" : "failed", r.detail));
    }
    summary_.checks.push_back(r);
  }
  if (!guard_.tripped().empty()) return Fail(p, "");
  if (!failed.empty()) {
    return Fail(p, fmt::format("{} of {} checks did not pass within the smoke_timeout of {}: {}",
                               failed.size(), n, base::FormatDuration(env_.standby.smoke_timeout),
                               fmt::join(failed, "; ")));
  }
  smoke_passed_at_ = store::Timestamp::Now();
  summary_.outcome.rto_ms = MsBetween(*power_on_at_, *smoke_passed_at_);
  End(p, PhaseOutcome::kPassed, fmt::format("{} of {} checks passed", passed, n));
  return true;
}

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool Drill::Compare() {
  Phase p = Begin("compare");
  if (env_.standby.probes.empty()) {
    End(p, PhaseOutcome::kSkipped, "no probes configured");
    return true;
  }
  const int cap = env_.config.primary.value_or(config::PrimaryConfig()).max_sessions;
  std::vector<std::string> notes;
  bool standby_failed = false;
  for (const config::PerformanceProbe& probe : env_.standby.probes) {
    HttpClient primary, standby;
    std::vector<int64_t> lat[2];
    ProbeSummary ps;
    ps.name = probe.name;
    bool primary_capped = false;
    for (int seq = 0; seq < probe.requests; ++seq) {
      if (!guard_.tripped().empty()) return Fail(p, "");
      for (int side = 0; side < 2; ++side) {
        if (side == 0 && primary_capped) continue;
        HttpClient& http = side == 0 ? primary : standby;
        const std::string& url = side == 0 ? probe.primary_url : probe.standby_url;
        base::Result<HttpResponse> r = http.Get(url, probe.timeout);
        store::PerfSampleRecord sample;
        sample.probe = probe.name;
        sample.host = side == 0 ? "primary" : "standby";
        sample.seq = seq;
        sample.at_wall_ms = store::Timestamp::Now().wall_ms;
        if (r.ok() && r->status >= 200 && r->status < 400) {
          sample.latency_us = r->elapsed.count();
          lat[side].push_back(r->elapsed.count());
        } else {
          sample.error = r.ok() ? fmt::format("status {}", r->status) : r.status().message();
          (side == 0 ? ps.primary_failures : ps.standby_failures)++;
        }
        (void)env_.store.AddPerfSample(summary_.drill_id, sample);
        if (side == 0) {
          ++summary_.outcome.primary_requests;
          // The connection is kept alive; each one the primary's server
          // made us open again counts, and at the cap the probing stops.
          primary_capped = summary_.outcome.primary_connections + primary.connections() >= cap;
        }
      }
      if (seq + 1 < probe.requests && !guard_.Sleep(probe.interval)) return Fail(p, "");
    }
    summary_.outcome.primary_connections += primary.connections();
    if (!lat[0].empty()) ps.primary_median_us = Median(lat[0]);
    if (!lat[1].empty()) ps.standby_median_us = Median(lat[1]);
    if (ps.standby_failures > 0) standby_failed = true;
    if (ps.primary_median_us && ps.standby_median_us) {
      const double ratio = static_cast<double>(*ps.standby_median_us) /
                           static_cast<double>(std::max<int64_t>(1, *ps.primary_median_us));
      ps.verdict = fmt::format("standby/primary median latency {:.2f} ({} us vs {} us)", ratio,
                               *ps.standby_median_us, *ps.primary_median_us);
    } else if (!ps.standby_median_us) {
      ps.verdict = "the standby answered no request";
    } else {
      ps.verdict = "the primary answered no request: no comparison";
    }
    if (primary_capped)
      ps.verdict += fmt::format("; stopped probing the primary at its cap of {} sessions", cap);
    if (ps.standby_failures > 0) {
      ps.verdict +=
          fmt::format("; {} of {} standby requests failed", ps.standby_failures, probe.requests);
    }
    notes.push_back(fmt::format("{}: {}", ps.name, ps.verdict));
    summary_.probes.push_back(std::move(ps));
  }
  if (standby_failed) return Fail(p, fmt::format("{}", fmt::join(notes, "; ")));
  End(p, PhaseOutcome::kPassed, fmt::format("{}", fmt::join(notes, "; ")));
  return true;
}

// ---- shutdown -----------------------------------------------------------

void Drill::Shutdown() {
  guard_.Disarm();
  Phase p = Begin("shutdown");
  if (lease_ != nullptr) {
    summary_.lease_renewals = lease_->renewals();
    lease_->Stop(false);  // held until the standby is off; it goes with the host
  }
  agent_.reset();
  OffResult off = ConfirmOff(env_, options_.poll_interval);
  summary_.off_steps = off.steps;
  summary_.confirmed_off = off.confirmed;
  if (!off.confirmed) {
    Event("error", "the standby could not be confirmed off: " + off.reason);
    End(p, PhaseOutcome::kFailed, off.reason);
    if (failed_phase_.empty()) {
      failed_phase_ = "shutdown";
      failure_ = off.reason;
    }
    return;
  }
  summary_.outcome.exposure_ms = MsBetween(*power_on_at_, off.at);
  End(p, PhaseOutcome::kPassed, off.reason);
}

base::Result<DrillSummary> Drill::Run() {
  summary_.standby = env_.standby.name;
  summary_.kind = options_.kind;
  store::DrillStart start;
  start.standby = env_.standby.name;
  start.kind = options_.kind;
  start.trigger = options_.trigger;
  start.controller_pid = ::getpid();
  start.controller_boot_id = host::ReadHostInfo().boot_id;
  start.at = store::Timestamp::Now();
  base::Result<int64_t> id = env_.store.BeginDrill(start);
  if (!id.ok()) return id.status();
  summary_.drill_id = *id;

  const bool ready =
      Preflight() && PowerOn() && Boot() && Lease() && Restore() && Smoke() && Compare();
  if (power_on_at_) summary_.power_on_at = *power_on_at_;
  if (ready && options_.kind == "prep") {
    // Failover prep: the standby stays up; a hold (hold.h) takes over the
    // lease and finishes the record when it ends.
    guard_.Disarm();
    summary_.lease_renewals = lease_->renewals();
    lease_->Stop(false);
    summary_.held = true;
    store::DrillOutcome& o = summary_.outcome;
    if (oldest_source_ms_) o.rpo_ms = store::Timestamp::Now().wall_ms - *oldest_source_ms_;
    base::Status s = env_.store.RecordDrillFigures(summary_.drill_id, o);
    if (!s.ok()) spdlog::error("could not record the prep's figures: {}", s.message());
    return summary_;
  }
  if (power_on_at_) {
    Shutdown();
  }

  store::DrillOutcome& o = summary_.outcome;
  o.at = store::Timestamp::Now();
  if (oldest_source_ms_) o.rpo_ms = o.at.wall_ms - *oldest_source_ms_;
  if (failed_phase_.empty()) {
    o.result = store::DrillResult::kPassed;
  } else {
    o.result =
        guard_.aborted_by_signal() ? store::DrillResult::kAborted : store::DrillResult::kFailed;
    o.failed_phase = failed_phase_;
    o.reason = failure_;
  }
  if (power_on_at_ && !summary_.confirmed_off) {
    o.result = store::DrillResult::kFailed;
    o.reason += (o.reason.empty() ? "" : "; ") +
                std::string("THE STANDBY MAY STILL BE ON: it could not be confirmed off");
  }
  base::Status s = env_.store.FinishDrill(summary_.drill_id, o);
  if (!s.ok()) spdlog::error("could not record the drill's end: {}", s.message());
  return summary_;
}

}  // namespace

std::string LeaseHolder(int64_t drill_id) { return fmt::format("drill {}", drill_id); }

OffResult ConfirmOff(const DrillEnv& env, std::chrono::milliseconds poll_interval) {
  power::OffOptions options = power::OffOptionsFor(env.standby);
  options.poll_interval = poll_interval;
  base::Result<power::OffReport> r = power::PowerOffConfirmed(env.power, env.host, options);
  OffResult out;
  out.at = store::Timestamp::Now();
  if (!r.ok()) {
    out.reason = r.status().message();
    return out;
  }
  out.confirmed = true;
  out.steps = r->steps;
  out.reason = fmt::format("confirmed off ({}){}", r->confirmed.how,
                           r->hard       ? " after a hard power off"
                           : r->graceful ? ", graceful"
                                         : "");
  return out;
}

base::Result<DrillSummary> RunDrill(const DrillEnv& env, const DrillOptions& options) {
  Drill drill(env, options);
  return drill.Run();
}

// ---- source age -------------------------------------------------------------

base::Result<int64_t> ParseCanaryTime(std::string_view text) {
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
  if (!t.empty() && t.size() <= 12 && std::all_of(t.begin(), t.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::stoll(t) * 1000;
  }
  std::tm tm{};
  const char* end = ::strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end != nullptr && (std::string_view(end) == "Z" || std::string_view(end) == "+00:00")) {
    return static_cast<int64_t>(::timegm(&tm)) * 1000;
  }
  return base::Status::Invalid(
      fmt::format("\"{}\" is not a time (expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ)",
                  t.size() > 40 ? t.substr(0, 40) + "..." : t));
}

namespace {

base::Result<std::string> ReadCanary(const restore::ResolvedSource& source,
                                     const std::string& canary) {
  if (source.kind == restore::ResolvedSource::Kind::kDirectory) {
    return base::ReadFile(source.path + "/" + canary);
  }
  base::Result<std::unique_ptr<restore::SourceReader>> reader = restore::SourceReader::Open(source);
  if (!reader.ok()) return reader.status();
  restore::SourceEntry entry;
  for (;;) {
    base::Result<bool> more = (*reader)->Next(&entry);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (entry.path != canary || entry.type != restore::EntryType::kFile) continue;
    std::string text;
    char buf[4096];
    for (;;) {
      base::Result<size_t> n = (*reader)->Read(buf, sizeof buf);
      if (!n.ok()) return n.status();
      if (*n == 0 || text.size() > 4096) break;
      text.append(buf, *n);
    }
    return text;
  }
  return base::Status::NotFound(fmt::format("{} has no file {}", source.path, canary));
}

}  // namespace

base::Result<SourceAge> ReadSourceAge(const config::RestoreMapping& mapping) {
  base::Result<restore::ResolvedSource> source = restore::ResolveSource(mapping.source);
  if (!source.ok()) return source.status();
  SourceAge age;
  if (!mapping.canary.empty()) {
    base::Result<std::string> text = ReadCanary(*source, mapping.canary);
    if (!text.ok()) {
      return base::Status::NotFound(fmt::format("canary {} of {}: {}", mapping.canary, source->path,
                                                text.status().message()));
    }
    base::Result<int64_t> at = ParseCanaryTime(*text);
    if (!at.ok()) {
      return base::Status::Invalid(
          fmt::format("canary {} of {}: {}", mapping.canary, source->path, at.status().message()));
    }
    age.newest_wall_ms = *at;
    age.from = "canary " + mapping.canary;
    return age;
  }
  if (source->kind == restore::ResolvedSource::Kind::kArchive) {
    age.newest_wall_ms = source->file_mtime_ns / 1'000'000;
    age.from = "archive time";
    return age;
  }
  // A directory: the newest modification in it (lstat only, bounded by the
  // tree's size).
  namespace fs = std::filesystem;
  std::error_code ec;
  int64_t newest = 0;
  auto consider = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0) {
      newest = std::max<int64_t>(
          newest, int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000);
    }
  };
  consider(source->path);
  for (fs::recursive_directory_iterator it(source->path, ec), end; !ec && it != end;
       it.increment(ec)) {
    consider(it->path());
  }
  if (ec) {
    return base::Status::IoError(fmt::format("cannot walk {}: {}", source->path, ec.message()));
  }
  age.newest_wall_ms = newest;
  age.from = "newest file";
  return age;
}

}  // namespace sb::drill
