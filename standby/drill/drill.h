// The drill: power a cold standby on, bring it current, check it, compare it
// with the primary, power it off, and record all of it.
//
//   preflight -> power on -> boot -> lease -> restore -> smoke -> compare
//             -> shutdown (always, once power on was requested)
//
// Each phase is written to the state store when it starts and when it ends
// (wall and monotonic clocks, outcome, reason), so a crash leaves an exact
// record for reconciliation (reconcile.h). Once power on has been requested,
// every way out goes through the shutdown phase: a failed phase, the
// standby's max_exposure deadline, or a stop request (SIGINT/SIGTERM, set by
// the caller in `stop`). A deadline or stop breaks the drill's connection to
// the agent so that a restore in progress ends at once (the agent discards
// its staging: the target keeps its old state).
//
// The caller holds the standby's DrillLock. RunDrill blocks; it starts one
// guard thread (deadline and stop) and the lease keeper's thread.
#ifndef STANDBY_DRILL_DRILL_H_
#define STANDBY_DRILL_DRILL_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/net/tls.h"
#include "standby/config/config.h"
#include "standby/power/power_driver.h"
#include "standby/restore/restore_run.h"
#include "standby/store/state_store.h"

namespace sb::drill {

// The phases, in order.
inline constexpr const char* kPhases[] = {"preflight", "power on", "boot",    "lease",
                                          "restore",   "smoke",    "compare", "shutdown"};

struct PhaseView {
  std::string name;
  store::PhaseOutcome outcome = store::PhaseOutcome::kRunning;
  std::string reason;
  int64_t duration_ms = 0;  // when ended
};

struct ProbeSummary {
  std::string name;
  std::optional<int64_t> primary_median_us, standby_median_us;
  int primary_failures = 0, standby_failures = 0;
  std::string verdict;
};

struct DrillSummary {
  int64_t drill_id = 0;
  std::string standby;
  std::string kind;
  store::DrillOutcome outcome;
  std::vector<PhaseView> phases;
  std::vector<store::CheckResultRecord> checks;
  std::vector<restore::RestoreReport> restores;
  std::vector<ProbeSummary> probes;
  std::vector<std::string> off_steps;  // how the standby was confirmed off
  bool confirmed_off = false;          // false only when power on was never requested...
  bool powered_on = false;             // ...or the off could not be confirmed
  std::string rpo_from;                // what the RPO was measured from
  int lease_renewals = 0;
  store::Timestamp power_on_at;  // when power on was requested
  // A prep that passed: the standby is up, the lease no longer renewed by
  // this process, and the record still open for a hold (hold.h) to finish.
  bool held = false;
  std::string hold_log;  // set by `standbyctl prep` once the hold runs
  int64_t hold_until_wall_ms = 0;
};

struct DrillEnv {
  const config::Config& config;
  const config::StandbyConfig& standby;
  store::StateStore& store;
  power::PowerDriver& power;
  power::HostAgent& host;  // the standby's agent, for the graceful shutdown
  const net::TlsContext& tls;
};

struct DrillOptions {
  // "drill", or "prep": when every phase up to compare passed, the standby
  // is left up (summary.held) instead of being shut down.
  std::string kind = "drill";
  std::string trigger = "manual";  // or "schedule:NAME"
  // Set (to the signal number) by the caller's signal handling; read by the
  // guard thread every 100 ms.
  const std::atomic<int>* stop = nullptr;
  // Called from the drill's thread as each phase starts and ends.
  std::function<void(const PhaseView&)> on_phase;
  // Polling while waiting for the agent to come up and for power off.
  std::chrono::milliseconds poll_interval{2'000};
};

// The name a drill holds the agent's lease under (a prep's hold renews it).
std::string LeaseHolder(int64_t drill_id);

// The shutdown of a drill or hold: graceful through the agent, hard power off
// after shutdown_timeout, confirmed off.
struct OffResult {
  bool confirmed = false;
  std::vector<std::string> steps;
  std::string reason;  // "confirmed off (...)" or why not
  store::Timestamp at;
};
OffResult ConfirmOff(const DrillEnv& env, std::chrono::milliseconds poll_interval);

// Runs the drill. Fails only when the drill could not be recorded at all
// (the store refused its first row); every other failure is in the summary.
base::Result<DrillSummary> RunDrill(const DrillEnv& env, const DrillOptions& options);

// The source's age for the RPO: the canary's time when the mapping has one,
// else the archive's own time, else the newest modification in the
// directory. Errors name the source and the canary.
struct SourceAge {
  int64_t newest_wall_ms = 0;
  std::string from;  // "canary www/.canary", "archive time", "newest file"
};
base::Result<SourceAge> ReadSourceAge(const config::RestoreMapping& mapping);

// Parses a canary's text: Unix seconds, or YYYY-MM-DDTHH:MM:SSZ (UTC).
base::Result<int64_t> ParseCanaryTime(std::string_view text);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_DRILL_H_
