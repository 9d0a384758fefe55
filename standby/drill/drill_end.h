// How every drill ends, in one place. A drill, a prep's hold, a prep whose
// hold could not start, and the reconciliation of a drill a dead controller
// left all end through these: the shutdown phase (ShutDown), then the
// outcome and its record (FinishDrill), which alone computes the exposure
// window and alone says, loudly, that the standby may still be on.
//
// Phases are recorded through a PhaseLog: in the store as each starts and
// ends (wall and monotonic clocks, outcome, reason), in the log, and to the
// caller's live view.
#ifndef STANDBY_DRILL_DRILL_END_H_
#define STANDBY_DRILL_DRILL_END_H_

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "standby/config/config.h"
#include "standby/drill/ports.h"
#include "standby/power/confirmed_off.h"
#include "standby/power/power_driver.h"
#include "standby/store/state_store.h"

namespace sb::drill {

// The phases of a drill, in order.
inline constexpr const char* kPhases[] = {"preflight", "power on", "boot",    "lease",
                                          "restore",   "smoke",    "compare", "shutdown"};

// A drill's side effects and what it works on. Everything must outlive the
// drill.
struct DrillEnv {
  const config::Config& config;
  const config::StandbyConfig& standby;
  store::StateStore& store;
  power::PowerDriver& power;
  power::HostAgent& host;  // the standby's agent, for the graceful shutdown
  DrillPorts ports;
};

// Milliseconds from `a` to `b` on the monotonic clock (same boot).
int64_t MsBetween(const store::Timestamp& a, const store::Timestamp& b);

struct PhaseView {
  std::string name;
  store::PhaseOutcome outcome = store::PhaseOutcome::kRunning;
  std::string reason;
  int64_t duration_ms = 0;  // when ended
};

class PhaseLog {
 public:
  PhaseLog(store::StateStore& store, Clock& clock, int64_t drill_id,
           std::function<void(const PhaseView&)> on_phase = nullptr)
      : store_(store), clock_(clock), drill_id_(drill_id), on_phase_(std::move(on_phase)) {}

  struct Open {
    int64_t id = 0;  // 0 when the store refused it (logged)
    PhaseView view;
    store::Timestamp started;
  };
  Open Begin(const std::string& name);
  void End(Open& phase, store::PhaseOutcome outcome, std::string reason);
  // The phase begun last and not ended yet, if any: where a drill that
  // stopped by an exception was.
  std::optional<Open> open() const { return open_; }

  // The phases ended so far, in order.
  const std::vector<PhaseView>& ended() const { return ended_; }
  int64_t drill_id() const { return drill_id_; }

 private:
  store::StateStore& store_;
  Clock& clock_;
  const int64_t drill_id_;
  std::function<void(const PhaseView&)> on_phase_;
  std::vector<PhaseView> ended_;
  std::optional<Open> open_;
};

// The shutdown: graceful through the agent, a hard power off after
// shutdown_timeout, confirmed off.
struct OffResult {
  bool confirmed = false;
  std::vector<std::string> steps;
  std::string reason;  // "confirmed off (...)" or why not
  store::Timestamp at;
};
OffResult OffResultOf(const base::Result<power::OffReport>& report, store::Timestamp at);

// The shutdown phase, on the clock port, recorded in `phases`; its reason
// starts with `why` when given ("released by the operator").
OffResult ShutDown(const DrillEnv& env, PhaseLog& phases, std::chrono::milliseconds poll_interval,
                   const std::string& why = "");

struct Ending {
  // The figures, and the result, failed phase and reason the phases left.
  store::DrillOutcome outcome;
  // When power on was requested; none when it never was.
  std::optional<store::Timestamp> power_on;
  // Whether power_on's monotonic time can be compared with off->at's (same
  // boot of the controller's host); otherwise the wall clocks are.
  bool same_boot = true;
  // The shutdown, when one ran.
  std::optional<OffResult> off;
  // What the exposure window is held to, and the words for it
  // ("max_exposure of 1h"): a drill's max_exposure, a held prep's
  // max_exposure + max_hold. An exposure past it is said in the reason and
  // recorded as a warning event.
  std::optional<base::Duration> exposure_limit;
  std::string exposure_limit_is;
};

// The limit of a drill (held: a prep whose hold started) of `standby`.
void SetExposureLimit(const config::StandbyConfig& standby, bool held, Ending* ending);

// When power on was requested, from a drill's recorded phases.
std::optional<store::Timestamp> PowerOnOf(const std::vector<store::PhaseRecord>& phases);

// The outcome to record, at `now` when no shutdown ran: with the exposure
// window when the standby was confirmed off; a failure that says THE
// STANDBY MAY STILL BE ON when power on was requested and off is not
// confirmed. Pure.
store::DrillOutcome Conclude(const Ending& ending, store::Timestamp now);

// Concludes (into *outcome) and finishes the drill's record, with an
// "error" event when off is not confirmed. Fails when the store refused.
base::Status FinishDrill(store::StateStore& store, int64_t drill_id, const Ending& ending,
                         store::Timestamp now, store::DrillOutcome* outcome);

}  // namespace sb::drill

#endif  // STANDBY_DRILL_DRILL_END_H_
