// Test support: fakes for every port of the drill (standby/drill/ports.h),
// the power driver and the host agent, so the drill's logic runs in
// milliseconds with no sockets, no child processes and no real waiting.
// Each fake does what it is told and counts what it was asked.
#ifndef TESTS_SUPPORT_DRILL_FAKES_H_
#define TESTS_SUPPORT_DRILL_FAKES_H_

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/host/indicators.h"
#include "standby/drill/ports.h"
#include "standby/power/power_driver.h"

namespace sb::testing {

// Time that passes only when the drill waits (or a fake spends it).
class FakeClock : public drill::Clock {
 public:
  store::Timestamp Now() override;
  bool Wait(std::chrono::milliseconds d, const std::function<bool()>& interrupted) override;
  void Advance(std::chrono::milliseconds d);
  std::chrono::milliseconds elapsed();

 private:
  std::mutex mu_;
  std::chrono::milliseconds elapsed_{0};  // guarded by mu_
};

// A standby that is off until powered on and off again after a graceful
// shutdown (unless stuck_on), seen through its BMC and its agent.
class FakeStandby : public power::PowerDriver, public power::HostAgent {
 public:
  std::string_view name() const override { return "fake"; }
  base::Result<power::PowerReading> Status() override;
  base::Status On() override;
  base::Status Off() override;
  base::Status SoftOff() override;
  bool Reachable() override { return on; }
  base::Status Shutdown() override;

  bool on = false;
  bool stuck_on = false;       // neither the agent nor the BMC can turn it off
  int failed_power_ons = 0;    // the next On() calls that fail
  bool login_refused = false;  // On() fails as a BMC refusing the password does
  int power_ons = 0, hard_offs = 0, shutdowns = 0;
};

class FakeSession : public drill::AgentSession {
 public:
  struct Script {
    // A restore's error, or empty for a report with these bytes.
    std::string restore_error;
    uint64_t literal_bytes = 1000;
    // The drift the agent finds (handed to spec.on_drift as a real restore
    // does, before it changes anything).
    std::vector<sync::Drift> drift;
    // Exit codes of agent commands by name (missing: 0).
    std::map<std::string, int> exit_codes;
    // Called at the start of every restore (a test's hook: a stop request,
    // time passing).
    std::function<void()> on_restore;
    // The restore blocks until it is interrupted (at most 5 s of real time),
    // as a real one on a live connection does.
    bool restore_blocks = false;
    // The replies to Indicators in turn (the last one repeats); none: a
    // calm host of 2 CPUs. An empty object makes the call fail.
    std::vector<nlohmann::json> indicators;
    int indicator_reads = 0;
    // Latencies of commands by name, as the agent reports them.
    std::map<std::string, int64_t> duration_us;
    // When the agent's certificate expires; none: unknown.
    std::optional<int64_t> cert_not_after_ms;
  };
  explicit FakeSession(Script* script) : script_(script) {}
  base::Result<nlohmann::json> Call(std::string_view type, nlohmann::json body) override;
  base::Result<restore::RestoreReport> Restore(const restore::RestoreSpec& spec) override;
  void Interrupt() override { interrupted_ = true; }
  std::optional<int64_t> CertificateNotAfterMs() const override {
    return script_->cert_not_after_ms;
  }

 private:
  Script* script_;
  std::atomic<bool> interrupted_{false};
};

// Dials the standby's agent (it answers once the FakeStandby is on and
// `boot_dials` attempts have failed) and the primary's (when
// primary_answers).
class FakeDialer : public drill::AgentDialer {
 public:
  FakeDialer(FakeStandby& standby, FakeClock& clock, std::string standby_host)
      : standby_(standby), clock_(clock), standby_host_(std::move(standby_host)) {}
  base::Result<std::unique_ptr<drill::AgentSession>> Dial(
      const client::AgentTarget& target, std::chrono::milliseconds connect_timeout) override;

  FakeSession::Script script;          // the standby agent's
  FakeSession::Script primary_script;  // the primary agent's
  int boot_dials = 1;                  // failed attempts before the standby's agent answers
  bool standby_never_answers = false;
  bool primary_answers = true;
  int standby_dials = 0, primary_dials = 0;

 private:
  FakeStandby& standby_;
  FakeClock& clock_;
  std::string standby_host_;
};

class FakeLease : public drill::StandbyLease {
 public:
  base::Status Take(const std::string& holder) override;
  int StopRenewing() override;

  std::string refuse;  // the error Take returns, when set
  std::string holder;
  bool renewing = false;
  int renewals = 3;
};

class FakeSmoke : public drill::SmokeRunner {
 public:
  drill::CheckRun Run(const config::SmokeCheck& check, const drill::CheckTarget& target,
                      drill::AgentSession* standby) override;

  // Checks that fail (by name) their first N runs; -1: always.
  std::map<std::string, int> failing;
  // Checks (by name) whose failures trying again cannot fix.
  std::set<std::string> permanent;
  // Checks (by name) that read this DNS TTL.
  std::map<std::string, std::chrono::milliseconds> ttl;
  // Checks (by name) that open this many connections to the primary a run
  // (as same_as_primary does); the budget each run was given.
  std::map<std::string, int> primary_connections;
  std::vector<int64_t> primary_budgets;
  std::map<std::string, int> runs;
  // When each check first ran (the target's clock) and the last target.
  std::map<std::string, int64_t> first_run_wall_ms;
  drill::CheckTarget last_target;
};

// Answers every GET after a latency: primary_us or standby_us by the URL's
// host ("primary" in it or not); opens a new connection every
// requests_per_connection requests.
class FakeProbes : public drill::ProbeRequester {
 public:
  std::unique_ptr<drill::Requester> Open() override;

  int64_t primary_us = 1000, standby_us = 1500;
  int requests_per_connection = 1000;
  bool standby_fails = false;
  int opened = 0;
  std::vector<std::string> order;  // "p" or "s" per request, as made
};

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_DRILL_FAKES_H_
