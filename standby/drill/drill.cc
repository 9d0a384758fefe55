#include "standby/drill/drill.h"

#include <unistd.h>

#include <exception>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"
#include "agent/host/host_info.h"
#include "agent/host/indicators.h"
#include "agent/net/tls.h"
#include "agent/proto/message.h"
#include "standby/drill/backoff.h"
#include "standby/drill/checks.h"
#include "standby/drill/guard.h"
#include "standby/restore/restore_record.h"
#include "standby/restore/source_age.h"

namespace sb::drill {
namespace {

using std::chrono::milliseconds;
using store::PhaseOutcome;

// A drill warns this long before a certificate of the channel expires.
constexpr milliseconds kCertificateWarning{30LL * 86'400'000};

// How many earlier drills the primary's latencies are compared with, and
// how often its indicators are read while probing it.
constexpr int kHistoryDrills = 5;
constexpr int kStressEveryRounds = 10;

// The comparison's two sides, as the store and the findings name them.
const char* HostName(int side) { return side == 0 ? "primary" : "standby"; }

int64_t NsAfter(const store::Timestamp& t, milliseconds d) {
  return t.mono_ns + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// The drill's state as its phases run.
class Drill {
 public:
  Drill(const DrillEnv& env, const DrillOptions& options, int64_t drill_id)
      : env_(env),
        options_(options),
        clock_(env.ports.clock),
        guard_(env.ports.clock, options.stop),
        phases_(env.store, env.ports.clock, drill_id, options.on_phase) {
    summary_.drill_id = drill_id;
    summary_.standby = env.standby.name;
    summary_.kind = options.kind;
  }

  DrillSummary Run();

 private:
  using Phase = PhaseLog::Open;
  // Ends `phase` as failed (or aborted, when a stop request tripped the
  // guard) and notes the drill's failure; returns false for
  // `if (...) return Fail(...)`.
  bool Fail(Phase& phase, std::string reason);
  bool Pass(Phase& phase, std::string reason);
  // Fails the phase that was running when `e` was thrown.
  void FailByException(const std::exception& e);

  bool Preflight();
  base::Status ReadSourceAges(std::vector<std::string>* notes);
  base::Result<std::unique_ptr<AgentSession>> DialPrimary();
  bool PowerOn();
  bool Boot();
  bool Lease();
  bool Restore();
  bool Smoke();
  std::vector<CheckRun> RunChecks();
  CheckTarget Target();
  CheckRun WarmupOutlasted(const config::SmokeCheck& check);
  bool Compare();
  AgentSession* PrimaryAgent(std::string* why);
  // A certificate that expires within kCertificateWarning: a warning in the
  // summary, in `notes` (the phase's reason) and as an event.
  void WarnIfExpiring(const std::string& whose, std::optional<int64_t> not_after_ms,
                      std::vector<std::string>* notes);
  std::optional<host::Indicators> ReadHost(AgentSession* agent, int side, const char* moment,
                                           std::string* why);
  // The probe's verdict with its figures, and the findings weighed against it.
  void RecordProbe(const ProbeSummary& ps);
  base::Result<ProbeRun> Probe(const config::PerformanceProbe& probe,
                               AgentSession* const agents[2]);
  void StopIfStressed(AgentSession* primary, std::string* stop_reason);
  // One probe request or command on `side` (0 primary, 1 standby): its
  // latency, or why there is none.
  struct Sample {
    std::optional<int64_t> us;
    std::string error;
  };
  Sample Take(const config::PerformanceProbe& probe, int side, Requester& http,
              AgentSession* agent);
  void Record(const config::PerformanceProbe& probe, int side, int seq, const Sample& sample,
              ProbeRun* run);
  void Hold();
  void End();

  const DrillEnv& env_;
  const DrillOptions& options_;
  Clock& clock_;
  Guard guard_;
  PhaseLog phases_;
  DrillSummary summary_;
  std::optional<store::Timestamp> power_on_at_;
  std::optional<int64_t> oldest_source_ms_;  // the RPO's input
  std::unique_ptr<AgentSession> agent_;
  std::unique_ptr<AgentSession> primary_agent_;  // from the preflight, kept for the comparison
  std::string failed_phase_, failure_;
};

bool Drill::Fail(Phase& p, std::string reason) {
  const std::string why = guard_.Tripped();
  if (!why.empty()) reason = why + (reason.empty() ? "" : " (" + reason + ")");
  phases_.End(p, guard_.by_signal() ? PhaseOutcome::kAborted : PhaseOutcome::kFailed, reason);
  failed_phase_ = p.view.name;
  failure_ = reason;
  return false;
}

bool Drill::Pass(Phase& p, std::string reason) {
  phases_.End(p, PhaseOutcome::kPassed, std::move(reason));
  return true;
}

// ---- preflight ----------------------------------------------------------

bool Drill::Preflight() {
  Phase p = phases_.Begin("preflight");
  std::vector<std::string> notes;
  base::Result<int64_t> own = net::CertificateFileNotAfterMs(env_.config.controller.tls.cert);
  // Unreadable, the first connection says why.
  if (own.ok()) WarnIfExpiring("the controller's", *own, &notes);
  if (base::Status s = ReadSourceAges(&notes); !s.ok()) return Fail(p, s.message());
  if (env_.config.primary) {
    const config::PrimaryConfig& primary_config = *env_.config.primary;
    base::Result<std::unique_ptr<AgentSession>> primary = DialPrimary();
    const bool prep = options_.kind == DrillKind::kPrep;
    if (primary.ok()) {
      primary_agent_ = std::move(*primary);
      notes.push_back(fmt::format("primary agent {} answers", primary_config.name));
      WarnIfExpiring(fmt::format("the primary agent {}'s", primary_config.agent_name),
                     primary_agent_->CertificateNotAfterMs(), &notes);
    } else if (prep ? primary_config.required_for_prep : primary_config.required_for_drill) {
      return Fail(p, fmt::format("the primary's agent is not reachable: {} ([primary] "
                                 "required_for_{} = true)",
                                 primary.status().message(), DrillKindName(options_.kind)));
    } else {
      summary_.primary_unreachable = primary.status().message();
      notes.push_back(
          fmt::format("primary agent {} unreachable ({}); going on without it, the "
                      "comparison will be skipped",
                      primary_config.name, primary.status().message()));
    }
  }
  base::Result<power::PowerReading> state = env_.power.Status();
  if (state.ok() && state->state == power::PowerState::kOn) {
    return Fail(p, fmt::format("the standby is already on ({}); a drill starts from a powered-off "
                               "standby. If nobody is using it: standbyctl power off --standby {}",
                               state->how, env_.standby.name));
  }
  if (!state.ok() && config::PowerStateFromBmc(env_.standby.power.driver)) {
    return Fail(p,
                fmt::format("cannot read the standby's power state: {}", state.status().message()));
  }
  return Pass(p, fmt::format("{}", fmt::join(notes, "; ")));
}

// Each source against its max_age; the oldest is the RPO's input.
base::Status Drill::ReadSourceAges(std::vector<std::string>* notes) {
  const int64_t now_ms = clock_.Now().wall_ms;
  for (const config::RestoreMapping& m : env_.standby.restores) {
    base::Result<restore::SourceAge> age = restore::ReadSourceAge(m);
    if (!age.ok()) return age.status();
    SB_RETURN_IF_ERROR(restore::CheckSourceAge(m, *age, now_ms));
    if (!oldest_source_ms_ || age->newest_wall_ms < *oldest_source_ms_) {
      oldest_source_ms_ = age->newest_wall_ms;
      summary_.rpo_from = fmt::format("{} of {}", age->from, m.source);
    }
  }
  if (oldest_source_ms_) {
    notes->push_back(fmt::format(
        "backup age {}",
        base::FormatDuration(milliseconds(std::max<int64_t>(0, now_ms - *oldest_source_ms_)))));
  }
  return base::Status::Ok();
}

// Every session to the primary counts against its cap for one drill.
base::Result<std::unique_ptr<AgentSession>> Drill::DialPrimary() {
  const config::PrimaryConfig& primary = *env_.config.primary;
  if (summary_.outcome.primary_connections >= primary.max_sessions) {
    return base::Status::FailedPrecondition(fmt::format(
        "the cap of {} sessions to the primary for one drill is reached", primary.max_sessions));
  }
  ++summary_.outcome.primary_connections;
  ++summary_.outcome.primary_requests;  // Hello
  return env_.ports.dialer.Dial({primary.agent, primary.agent_name}, std::chrono::seconds(10));
}

// ---- power on, boot, lease -------------------------------------------------

bool Drill::PowerOn() {
  Phase p = phases_.Begin("power on");
  power_on_at_ = clock_.Now();
  guard_.SetDeadline(NsAfter(*power_on_at_, env_.standby.max_exposure),
                     fmt::format("the standby's max_exposure of {} was reached",
                                 base::FormatDuration(env_.standby.max_exposure)));
  Backoff backoff(milliseconds(1'000), milliseconds(8'000));
  base::Status s;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    s = env_.power.On();
    // A refused login is not tried again: retries lock BMC accounts.
    if (s.ok() || s.code() == base::Code::kPermissionDenied) break;
    spdlog::warn("power on attempt {} of 3 failed: {}", attempt, s.message());
    if (attempt < 3 && !guard_.Sleep(backoff.Next())) break;
  }
  if (!s.ok()) return Fail(p, fmt::format("power on failed: {}", s.message()));
  return Pass(p, fmt::format("requested through {}", env_.power.name()));
}

bool Drill::Boot() {
  Phase p = phases_.Begin("boot");
  const int64_t deadline_ns = NsAfter(clock_.Now(), env_.standby.boot_timeout);
  Backoff backoff(milliseconds(250), std::max(milliseconds(250), options_.poll_interval * 2));
  int attempts = 0;
  std::string last;
  while (guard_.Tripped().empty()) {
    ++attempts;
    base::Result<std::unique_ptr<AgentSession>> c = env_.ports.dialer.Dial(
        {env_.standby.agent, env_.standby.agent_name}, std::chrono::seconds(5));
    if (c.ok()) {
      agent_ = std::move(*c);
      guard_.Watch(agent_.get());
      const int64_t boot_ms = MsBetween(*power_on_at_, clock_.Now());
      summary_.outcome.boot_ms = boot_ms;
      // The boot time counts from the power-on request, as the RTO does;
      // the phase itself started once the request was made.
      std::vector<std::string> notes = {fmt::format(
          "agent answered {} after the power-on request ({} attempt{})",
          base::FormatDuration(milliseconds(boot_ms)), attempts, attempts == 1 ? "" : "s")};
      WarnIfExpiring(fmt::format("the standby agent {}'s", env_.standby.agent_name),
                     agent_->CertificateNotAfterMs(), &notes);
      return Pass(p, fmt::format("{}", fmt::join(notes, "; ")));
    }
    last = c.status().message();
    const milliseconds wait = backoff.Next();
    if (NsAfter(clock_.Now(), wait) >= deadline_ns) {
      return Fail(p, fmt::format("the agent did not answer within the boot_timeout of {} ({} "
                                 "attempts; last: {})",
                                 base::FormatDuration(env_.standby.boot_timeout), attempts, last));
    }
    guard_.Sleep(wait);
  }
  return Fail(p, last);
}

bool Drill::Lease() {
  Phase p = phases_.Begin("lease");
  base::Status s = env_.ports.lease.Take(LeaseHolder(summary_.drill_id));
  if (!s.ok()) return Fail(p, fmt::format("the agent would not take the lease: {}", s.message()));
  return Pass(p, fmt::format("held for {}, renewed every {}; the standby shuts itself down if "
                             "renewals stop",
                             base::FormatDuration(env_.standby.lease),
                             base::FormatDuration(env_.standby.lease / 3)));
}

// ---- restore, smoke, compare ----------------------------------------------

bool Drill::Restore() {
  Phase p = phases_.Begin("restore");
  if (env_.standby.restores.empty()) {
    phases_.End(p, PhaseOutcome::kSkipped, "no restore mappings configured");
    return true;
  }
  int64_t wire = 0, literal = 0, changed = 0;
  uint64_t reread = 0;
  size_t unchecked = 0;  // mappings without a record of a previous restore
  sync::DriftCounts drift{};
  std::vector<std::string> corrupt;  // "target: path", where on_corrupt = fail
  for (const config::RestoreMapping& m : env_.standby.restores) {
    if (!guard_.Tripped().empty()) return Fail(p, "");
    restore::RestoreSpec spec = restore::SpecFor(env_.config, m);
    spec.on_progress = options_.on_restore_progress;
    // Recorded before the restore overwrites it: a planted file is on
    // record even if it is gone afterwards.
    spec.on_drift = [&](const std::vector<sync::Drift>& found) {
      base::Status saved = env_.store.AddDrift(restore::DriftRecordsOf(
          env_.standby.name, m.target, found, summary_.drill_id, clock_.Now().wall_ms));
      if (!saved.ok()) spdlog::error("could not record drift: {}", saved.message());
    };
    base::Result<restore::RestoreReport> r = agent_->Restore(spec);
    if (!r.ok()) {
      // The message ends saying what the target holds now.
      return Fail(p, fmt::format("{} -> {}: {}", m.source, m.target, r.status().message()));
    }
    const store::RestoreStatsRecord stats =
        restore::StatsOf(env_.standby.name, *r, summary_.drill_id, clock_.Now().wall_ms);
    base::Status saved = env_.store.AddRestoreStats(stats);
    if (!saved.ok()) spdlog::error("could not record restore statistics: {}", saved.message());
    wire += stats.bytes_wire;
    literal += stats.bytes_literal;
    reread += r->verify ? r->verify->reread_bytes : 0;
    for (size_t k = 0; k < sync::kDriftKindCount; ++k) drift[k] += r->drift_counts[k];
    if (!r->hash_cache_used) ++unchecked;
    changed += stats.files_changed + stats.files_new + stats.files_deleted;
    for (const sync::Drift& d : r->drift) {
      if (d.kind != sync::DriftKind::kCorrupt) continue;
      if (m.fail_on_corrupt) {
        corrupt.push_back(fmt::format("{}/{}", m.target, d.path));
      } else {
        spdlog::warn("corruption at rest on {} (on_corrupt = warn): {}/{}", env_.standby.name,
                     m.target, d.path);
      }
    }
    summary_.restores.push_back(std::move(*r));
  }
  const size_t n = env_.standby.restores.size();
  const std::string figures = fmt::format(
      "{} mapping{}: {} entries changed, {} literal, {} on the wire, {} re-read from the "
      "standby's disk; drift: {}",
      n, n == 1 ? "" : "s", changed, base::FormatSize(static_cast<uint64_t>(literal)),
      base::FormatSize(static_cast<uint64_t>(wire)), base::FormatSize(reread),
      unchecked == n ? std::string("not checked (no record of a previous restore on the standby)")
      : unchecked == 0
          ? restore::DriftCountWords(drift)
          : fmt::format("{} ({} of {} mappings not checked: no record of a previous restore)",
                        restore::DriftCountWords(drift), unchecked, n));
  if (!corrupt.empty()) {
    // Repaired now, but a standby whose disk rots cannot be trusted.
    return Fail(p, fmt::format("corruption at rest: {} file{} read back from the standby's disk "
                               "with other bytes than the last restore wrote ({}{}), repaired "
                               "from the backup; on_corrupt = fail. {}",
                               corrupt.size(), corrupt.size() == 1 ? "" : "s",
                               fmt::join(corrupt.begin(),
                                         corrupt.begin() + static_cast<std::ptrdiff_t>(
                                                               std::min<size_t>(corrupt.size(), 5)),
                                         ", "),
                               corrupt.size() > 5 ? ", ..." : "", figures));
  }
  Pass(p, figures);
  summary_.outcome.restore_ms = p.view.duration_ms;
  return true;
}

bool Drill::Smoke() {
  Phase p = phases_.Begin("smoke");
  if (env_.standby.checks.empty()) {
    // Nothing proves the standby could take over: never a pass.
    return Fail(p, "no checks configured");
  }
  std::vector<std::string> failed;
  bool retried_to_the_end = false;  // a failure was tried until smoke_timeout
  for (CheckRun& run : RunChecks()) {
    if (run.max_ttl) {
      summary_.outcome.dns_ttl_ms = std::max(summary_.outcome.dns_ttl_ms.value_or(0),
                                             static_cast<int64_t>(run.max_ttl->count()));
    }
    store::CheckResultRecord& r = run.result;
    base::Status saved = env_.store.AddCheckResult(summary_.drill_id, r);
    if (!saved.ok()) spdlog::error("could not record check {}: {}", r.name, saved.message());
    spdlog::info("check {}: {} ({})", r.name, store::CheckOutcomeName(r.outcome), r.detail);
    if (r.outcome != store::CheckOutcome::kPassed) {
      retried_to_the_end = retried_to_the_end || !run.permanent;
      failed.push_back(fmt::format(
          "{} {}: {}", r.name,
          r.outcome == store::CheckOutcome::kNotRun ? "could not run" : "failed", r.detail));
    }
    summary_.checks.push_back(std::move(r));
  }
  if (!guard_.Tripped().empty()) return Fail(p, "");
  const size_t n = env_.standby.checks.size();
  if (!failed.empty()) {
    return Fail(
        p, fmt::format("{} of {} checks did not pass{}: {}", failed.size(), n,
                       retried_to_the_end ? " within the smoke_timeout of " +
                                                base::FormatDuration(env_.standby.smoke_timeout)
                                          : "",
                       fmt::join(failed, "; ")));
  }
  summary_.outcome.rto_ms = MsBetween(*power_on_at_, clock_.Now());
  if (summary_.outcome.dns_ttl_ms) {
    summary_.outcome.effective_failover_ms =
        *summary_.outcome.rto_ms + *summary_.outcome.dns_ttl_ms;
  }
  return Pass(p, fmt::format("{} of {} checks passed", n, n));
}

// A check whose warm-up outlasted smoke_timeout could not run: failed.
CheckRun Drill::WarmupOutlasted(const config::SmokeCheck& check) {
  CheckRun never;
  never.result.name = check.name;
  never.result.kind = std::string(config::CheckKindName(check.kind));
  never.result.outcome = store::CheckOutcome::kNotRun;
  never.result.detail = fmt::format(
      "its warm-up of {} was not over when the smoke_timeout of {} ended",
      base::FormatDuration(check.warmup), base::FormatDuration(env_.standby.smoke_timeout));
  never.result.at_wall_ms = clock_.Now().wall_ms;
  return never;
}

CheckTarget Drill::Target() {
  CheckTarget t = TargetFor(env_.config, env_.standby);
  t.now_wall_ms = [this] { return clock_.Now().wall_ms; };
  return t;
}

// Services start after the agent does: a check is first run once its
// warm-up is over, and a failing check is tried again, with backoff, until
// every check has passed or smoke_timeout is over; a failure that trying
// again cannot fix is not retried. Each check's last run is returned; none
// for a check the guard kept from running at all.
std::vector<CheckRun> Drill::RunChecks() {
  const std::vector<config::SmokeCheck>& checks = env_.standby.checks;
  const size_t n = checks.size();
  CheckTarget target = Target();
  const int cap = env_.config.primary.value_or(config::PrimaryConfig()).max_sessions;
  std::vector<std::optional<CheckRun>> last(n);
  std::vector<int> attempts(n, 0);
  auto settled = [&](size_t i) {
    return last[i] &&
           (last[i]->permanent || last[i]->result.outcome == store::CheckOutcome::kPassed);
  };
  const store::Timestamp start = clock_.Now();
  const int64_t deadline_ns = NsAfter(start, env_.standby.smoke_timeout);
  Backoff backoff(milliseconds(250), milliseconds(5'000));
  for (;;) {
    bool all_settled = true;
    int64_t next_warm_ns = deadline_ns;  // the soonest warm-up still running
    for (size_t i = 0; i < n; ++i) {
      if (settled(i)) continue;
      if (!guard_.Tripped().empty()) break;
      const int64_t ready_ns = NsAfter(start, checks[i].warmup);
      if (clock_.Now().mono_ns < ready_ns) {
        all_settled = false;
        next_warm_ns = std::min(next_warm_ns, ready_ns);
        continue;
      }
      ++attempts[i];
      target.primary_connections_left = cap - summary_.outcome.primary_connections;
      last[i] = env_.ports.smoke.Run(checks[i], target, agent_.get());
      summary_.outcome.primary_connections += last[i]->primary_connections;
      summary_.outcome.primary_requests += last[i]->primary_requests;
      all_settled = all_settled && settled(i);
    }
    if (all_settled || !guard_.Tripped().empty()) break;
    const int64_t now_ns = clock_.Now().mono_ns;
    milliseconds wait = backoff.Next();
    if (next_warm_ns < deadline_ns) {
      wait = std::min(wait, std::chrono::ceil<milliseconds>(std::chrono::nanoseconds(
                                std::max<int64_t>(next_warm_ns - now_ns, 1'000'000))));
    }
    if (NsAfter(clock_.Now(), wait) >= deadline_ns || !guard_.Sleep(wait)) break;
  }
  std::vector<CheckRun> out;
  for (size_t i = 0; i < n; ++i) {
    if (!last[i]) {
      if (guard_.Tripped().empty()) out.push_back(WarmupOutlasted(checks[i]));
      continue;
    }
    if (attempts[i] > 1) last[i]->result.detail += fmt::format(" (attempt {})", attempts[i]);
    out.push_back(std::move(*last[i]));
  }
  return out;
}

bool Drill::Compare() {
  Phase p = phases_.Begin("compare");
  if (env_.standby.probes.empty()) {
    phases_.End(p, PhaseOutcome::kSkipped, "no probes configured");
    return true;
  }
  if (!summary_.primary_unreachable.empty()) {
    // Not asked again: the primary may be the host in trouble.
    phases_.End(p, PhaseOutcome::kSkipped,
                fmt::format("primary unreachable: {}", summary_.primary_unreachable));
    return true;
  }
  // Both hosts' indicators before and after the probes: what the findings
  // (findings.h) weigh each verdict against.
  HostWindow windows[2];
  windows[0].host = HostName(0);
  windows[1].host = HostName(1);
  AgentSession* agents[2] = {PrimaryAgent(&windows[0].unread), agent_.get()};
  if (!agents[1]) windows[1].unread = "no agent session to the standby";
  const int64_t start_ns = clock_.Now().mono_ns;
  for (int side = 0; side < 2; ++side) {
    windows[side].before = ReadHost(agents[side], side, "before", &windows[side].unread);
  }
  std::vector<ProbeRun> runs;
  for (const config::PerformanceProbe& probe : env_.standby.probes) {
    base::Result<ProbeRun> run = Probe(probe, agents);
    if (!run.ok()) return Fail(p, "");
    runs.push_back(std::move(*run));
  }
  std::vector<Finding> findings;
  for (int side = 0; side < 2; ++side) {
    windows[side].after = ReadHost(agents[side], side, "after", &windows[side].unread);
    windows[side].seconds = static_cast<double>(clock_.Now().mono_ns - start_ns) / 1e9;
    for (Finding& f : ReadFindings(windows[side])) findings.push_back(std::move(f));
  }

  std::vector<std::string> notes;
  bool standby_failed = false;
  for (size_t i = 0; i < runs.size(); ++i) {
    const config::PerformanceProbe& probe = env_.standby.probes[i];
    CompareRules rules;
    rules.slower_ratio = probe.slower_ratio;
    rules.noise_band = probe.noise_band;
    rules.min_difference = static_cast<double>(probe.min_difference.count());
    ProbeContext context;
    context.findings = findings;
    base::Result<store::StateStore::History> history = env_.store.PerfHistory(
        env_.standby.name, probe.name, "primary", summary_.drill_id, kHistoryDrills);
    if (history.ok()) {
      context.primary_history_us = std::move(history->latencies_us);
      context.history_drills = history->drills;
    } else {
      spdlog::warn("{}", history.status().message());
    }
    ProbeSummary ps = Summarize(runs[i], rules, context);
    if (ps.standby_failures > 0) standby_failed = true;
    if (probe.on_slower == config::OnSlower::kFail && ps.decision == Verdict::kStandbySlower) {
      standby_failed = true;
      ps.verdict += " (on_slower = \"fail\")";
    }
    RecordProbe(ps);
    notes.push_back(fmt::format("{}: {}", ps.name, ps.verdict));
    summary_.probes.push_back(std::move(ps));
  }
  if (standby_failed) return Fail(p, fmt::format("{}", fmt::join(notes, "; ")));
  return Pass(p, fmt::format("{}", fmt::join(notes, "; ")));
}

void Drill::WarnIfExpiring(const std::string& whose, std::optional<int64_t> not_after_ms,
                           std::vector<std::string>* notes) {
  if (!not_after_ms) return;
  const int64_t now = clock_.Now().wall_ms;
  const int64_t left = *not_after_ms - now;
  if (left > kCertificateWarning.count()) return;
  const std::string warning = fmt::format(
      "{} certificate {} {} ({}); renew it with standbyctl pki renew (README, Certificates)", whose,
      left > 0 ? "expires in" : "expired", base::FormatDuration(milliseconds(std::abs(left))),
      base::Rfc3339(*not_after_ms));
  summary_.warnings.push_back(warning);
  notes->push_back("WARNING: " + warning);
  base::Status s = env_.store.AddEvent(summary_.drill_id, "warn", warning, now);
  if (!s.ok()) spdlog::warn("{}", s.message());
}

// The primary's agent: the preflight's session while it still answers
// (the agent closes idle ones), else a new one within the cap.
AgentSession* Drill::PrimaryAgent(std::string* why) {
  if (!env_.config.primary) {
    *why = "no [primary] agent configured";
    return nullptr;
  }
  if (primary_agent_) {
    ++summary_.outcome.primary_requests;
    if (primary_agent_->Call(proto::type::kPing, nlohmann::json::object()).ok()) {
      return primary_agent_.get();
    }
    primary_agent_.reset();
  }
  base::Result<std::unique_ptr<AgentSession>> dialed = DialPrimary();
  if (!dialed.ok()) {
    *why = fmt::format("the primary's agent is not reachable: {}", dialed.status().message());
    return nullptr;
  }
  primary_agent_ = std::move(*dialed);
  return primary_agent_.get();
}

// One reading of a host's indicators, recorded in the store; on failure
// `why` says what went wrong.
std::optional<host::Indicators> Drill::ReadHost(AgentSession* agent, int side, const char* moment,
                                                std::string* why) {
  if (agent == nullptr) return std::nullopt;
  if (side == 0) ++summary_.outcome.primary_requests;
  base::Result<nlohmann::json> reply =
      agent->Call(proto::type::kIndicators, nlohmann::json::object());
  base::Result<host::Indicators> in = reply.ok() ? host::IndicatorsFromJson(*reply)
                                                 : base::Result<host::Indicators>(reply.status());
  if (!in.ok()) {
    *why +=
        fmt::format("{}{} the probes: {}", why->empty() ? "" : "; ", moment, in.status().message());
    return std::nullopt;
  }
  base::Status s = env_.store.AddIndicators(
      summary_.drill_id, {HostName(side), moment, reply->dump(), clock_.Now().wall_ms});
  if (!s.ok()) spdlog::warn("{}", s.message());
  return *in;
}

void Drill::RecordProbe(const ProbeSummary& ps) {
  store::ProbeResultRecord result;
  result.probe = ps.name;
  result.verdict = std::string(VerdictName(ps.decision));
  result.primary_median_us = ps.primary_median_us;
  result.standby_median_us = ps.standby_median_us;
  if (ps.comparison && ps.comparison->ratio) {
    result.ratio = ps.comparison->ratio->ratio;
    result.ratio_low = ps.comparison->ratio->low;
    result.ratio_high = ps.comparison->ratio->high;
  }
  result.detail = ps.verdict;
  base::Status recorded = env_.store.AddProbeResult(summary_.drill_id, result);
  if (!recorded.ok()) spdlog::warn("{}", recorded.message());
  for (const Finding& f : ps.findings) {
    base::Status s = env_.store.AddFinding(
        summary_.drill_id, {ps.name, std::string(VerdictName(ps.decision)), f.host, f.kind,
                            std::string(BearingName(f.bearing)), f.what});
    if (!s.ok()) spdlog::warn("{}", s.message());
  }
}

// One probe's requests, primary and standby interleaved in ABBA order (a
// drift in the machines' load then weighs on both sides alike), each
// recorded as a sample; the first warmup_requests of each side are made
// (connections, TLS, caches) and not counted. The primary's connection is
// kept alive; each one its server made us open again counts against the
// cap, and at the cap its probing stops, as it does at the drill's
// max_requests and when the primary's indicators, read every
// kStressEveryRounds rounds, show stress. Fails only when the guard
// tripped.
base::Result<ProbeRun> Drill::Probe(const config::PerformanceProbe& probe,
                                    AgentSession* const agents[2]) {
  const config::PrimaryConfig limits = env_.config.primary.value_or(config::PrimaryConfig());
  ProbeRun run;
  run.name = probe.name;
  run.requests = probe.requests;
  std::unique_ptr<Requester> hosts[2] = {env_.ports.probes.Open(), env_.ports.probes.Open()};
  const int rounds = probe.warmup_requests + probe.requests;
  for (int round = 0; round < rounds; ++round) {
    if (!guard_.Tripped().empty()) return base::Status::Unavailable("the drill was stopped");
    const bool warmup = round < probe.warmup_requests;
    const int seq = round - probe.warmup_requests;
    if (run.primary_stopped.empty() && round > 0 && round % kStressEveryRounds == 0) {
      StopIfStressed(agents[0], &run.primary_stopped);
    }
    if (run.primary_stopped.empty() && summary_.outcome.primary_requests >= limits.max_requests) {
      run.primary_stopped = fmt::format(
          "request cap reached: stopped probing the primary at the drill's max_requests of {}",
          limits.max_requests);
    }
    const bool probe_primary = !run.primary_capped_at && run.primary_stopped.empty();
    for (int turn = 0; turn < 2; ++turn) {
      const int side = round % 2 == 0 ? turn : 1 - turn;  // primary first, then standby first
      if (side == 0 && !probe_primary) continue;
      Sample sample = Take(probe, side, *hosts[side], agents[side]);
      if (!warmup) Record(probe, side, seq, sample, &run);
      if (side == 0) {
        ++summary_.outcome.primary_requests;
        if (summary_.outcome.primary_connections + hosts[0]->connections() >= limits.max_sessions) {
          run.primary_capped_at = limits.max_sessions;
        }
      }
    }
    if (round + 1 < rounds && !guard_.Sleep(probe.interval)) {
      return base::Status::Unavailable("the drill was stopped");
    }
  }
  summary_.outcome.primary_connections += hosts[0]->connections();
  return run;
}

// Reads the primary's indicators mid-probe and, when its load is past the
// stop rules (findings.h), says why its probing stops in `stop_reason`:
// the comparison never adds to a primary already in trouble.
void Drill::StopIfStressed(AgentSession* primary, std::string* stop_reason) {
  std::string unread;
  std::optional<host::Indicators> now = ReadHost(primary, 0, "during", &unread);
  if (!now) return;
  if (std::optional<Finding> stress = StressStop(HostName(0), *now)) {
    *stop_reason =
        fmt::format("stopped probing the primary early: it shows stress ({})", stress->what);
  }
}

Drill::Sample Drill::Take(const config::PerformanceProbe& probe, int side, Requester& http,
                          AgentSession* agent) {
  Sample out;
  if (probe.kind == config::ProbeKind::kHttp) {
    base::Result<HttpResponse> r =
        http.Get(side == 0 ? probe.primary_url : probe.standby_url, probe.timeout);
    if (r.ok() && r->status >= 200 && r->status < 400) {
      out.us = r->elapsed.count();
    } else {
      out.error = r.ok() ? fmt::format("status {}", r->status) : r.status().message();
    }
    return out;
  }
  // A command, timed by the agent that ran it.
  if (agent == nullptr) {
    out.error = fmt::format("no agent session to the {}", HostName(side));
    return out;
  }
  // The command's timeout is its allow-list entry's, on the agent.
  base::Result<nlohmann::json> r = agent->Call(proto::type::kRunCommand, {{"name", probe.command}});
  const bool timed_out = r.ok() && r->value("timed_out", false);
  const int exit_code = r.ok() ? r->value("exit_code", -1) : -1;
  if (!r.ok()) {
    out.error = r.status().message();
  } else if (timed_out || exit_code != 0) {
    out.error = timed_out ? "timed out"
                          : fmt::format("exit {}: {}", exit_code,
                                        r->value("stderr", std::string()).substr(0, 200));
  } else if (r->contains("duration_us")) {
    out.us = r->value("duration_us", int64_t{0});
  } else {
    out.us = r->value("duration_ms", int64_t{0}) * 1000;  // an older agent
  }
  return out;
}

// One counted request of a probe: a sample in the store and in `run`.
void Drill::Record(const config::PerformanceProbe& probe, int side, int seq, const Sample& s,
                   ProbeRun* run) {
  store::PerfSampleRecord sample;
  sample.probe = probe.name;
  sample.host = HostName(side);
  sample.seq = seq;
  sample.at_wall_ms = clock_.Now().wall_ms;
  if (s.us) {
    sample.latency_us = *s.us;
    (side == 0 ? run->primary_us : run->standby_us).push_back(*s.us);
  } else {
    sample.error = s.error;
    ++(side == 0 ? run->primary_failures : run->standby_failures);
  }
  (void)env_.store.AddPerfSample(summary_.drill_id, sample);
}

// ---- the end ------------------------------------------------------------

// A prep that passed: the standby stays up; a hold (hold.h) takes over the
// lease and finishes the record when it ends.
void Drill::Hold() {
  guard_.Disarm();
  summary_.lease_renewals = env_.ports.lease.StopRenewing();
  summary_.held = true;
  base::Status s = env_.store.RecordDrillFigures(summary_.drill_id, summary_.outcome);
  if (!s.ok()) spdlog::error("could not record the prep's figures: {}", s.message());
}

void Drill::End() {
  Ending ending;
  ending.power_on = power_on_at_;
  SetExposureLimit(env_.standby, /*held=*/false, &ending);
  if (power_on_at_) {
    guard_.Disarm();
    // Held until the standby is off; the lease goes with the host.
    summary_.lease_renewals = env_.ports.lease.StopRenewing();
    agent_.reset();
    ending.off = ShutDown(env_, phases_, options_.poll_interval);
    summary_.off_steps = ending.off->steps;
    summary_.confirmed_off = ending.off->confirmed;
  }
  ending.outcome = summary_.outcome;
  if (!failed_phase_.empty()) {
    ending.outcome.result =
        guard_.by_signal() ? store::DrillResult::kAborted : store::DrillResult::kFailed;
    ending.outcome.failed_phase = failed_phase_;
    ending.outcome.reason = failure_;
  }
  base::Status s =
      FinishDrill(env_.store, summary_.drill_id, ending, clock_.Now(), &summary_.outcome);
  if (!s.ok()) spdlog::error("{}", s.message());
}

void Drill::FailByException(const std::exception& e) {
  const std::string reason = fmt::format("internal error: {}", e.what());
  spdlog::error("drill {}: {}", summary_.drill_id, reason);
  if (std::optional<Phase> open = phases_.open()) {
    Fail(*open, reason);
  } else {
    failed_phase_ = "drill";
    failure_ = reason;
  }
}

DrillSummary Drill::Run() {
  bool ready = false;
  try {
    ready = Preflight() && PowerOn() && Boot() && Lease() && Restore() && Smoke() && Compare();
  } catch (const std::exception& e) {
    // A fault of ours, or an answer (an agent's, a BMC's) of a shape that
    // nothing caught: the phase fails, and the standby is still shut down.
    FailByException(e);
  }
  if (oldest_source_ms_) {
    // A backup within the clock skew allowance ahead of now is as new as it gets.
    summary_.outcome.rpo_ms = std::max<int64_t>(0, clock_.Now().wall_ms - *oldest_source_ms_);
  }
  summary_.powered_on = power_on_at_.has_value();
  if (ready && options_.kind == DrillKind::kPrep) {
    Hold();
  } else {
    End();
  }
  summary_.phases = phases_.ended();
  return summary_;
}

}  // namespace

std::string_view DrillKindName(DrillKind kind) {
  return kind == DrillKind::kPrep ? "prep" : "drill";
}

std::string LeaseHolder(int64_t drill_id) { return fmt::format("drill {}", drill_id); }

base::Result<DrillSummary> RunDrill(const DrillEnv& env, const DrillOptions& options) {
  store::DrillStart start;
  start.standby = env.standby.name;
  start.kind = std::string(DrillKindName(options.kind));
  start.trigger = options.trigger;
  start.controller_pid = ::getpid();
  start.controller_boot_id = host::ReadHostInfo().boot_id;
  start.at = env.ports.clock.Now();
  start.config_digest = env.standby.digest;
  base::Result<int64_t> id = env.store.BeginDrill(start);
  if (!id.ok()) return id.status();
  Drill drill(env, options, *id);
  return drill.Run();
}

}  // namespace sb::drill
