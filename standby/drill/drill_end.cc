#include "standby/drill/drill_end.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"

namespace sb::drill {
int64_t MsBetween(const store::Timestamp& a, const store::Timestamp& b) {
  return (b.mono_ns - a.mono_ns) / 1'000'000;
}

PhaseLog::Open PhaseLog::Begin(const std::string& name) {
  Open p;
  p.view.name = name;
  p.started = clock_.Now();
  base::Result<int64_t> id = store_.BeginPhase(drill_id_, name, p.started);
  if (id.ok()) {
    p.id = *id;
  } else {
    spdlog::error("drill {}: could not record phase {}: {}", drill_id_, name,
                  id.status().message());
  }
  spdlog::info("drill {}: {} started", drill_id_, name);
  open_ = p;  // before the observer, which may throw
  if (on_phase_) on_phase_(p.view);
  return p;
}

void PhaseLog::End(Open& p, store::PhaseOutcome outcome, std::string reason) {
  const store::Timestamp now = clock_.Now();
  p.view.outcome = outcome;
  p.view.reason = std::move(reason);
  p.view.duration_ms = MsBetween(p.started, now);
  if (p.id != 0) {
    base::Status s = store_.EndPhase(p.id, outcome, p.view.reason, now);
    if (!s.ok()) {
      spdlog::error("drill {}: could not record the end of {}: {}", drill_id_, p.view.name,
                    s.message());
    }
  }
  spdlog::info("drill {}: {} {}{}{}", drill_id_, p.view.name, store::PhaseOutcomeName(outcome),
               p.view.reason.empty() ? "" : ": ", p.view.reason);
  ended_.push_back(p.view);
  if (open_ && open_->id == p.id && open_->view.name == p.view.name) open_.reset();
  if (on_phase_) on_phase_(p.view);
}

OffResult OffResultOf(const base::Result<power::OffReport>& r, store::Timestamp at) {
  OffResult out;
  out.at = at;
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

OffResult ShutDown(const DrillEnv& env, PhaseLog& phases, std::chrono::milliseconds poll_interval,
                   const std::string& why) {
  PhaseLog::Open p = phases.Begin("shutdown");
  power::OffOptions options = power::OffOptionsFor(env.standby);
  options.poll_interval = poll_interval;
  Clock& clock = env.ports.clock;
  options.now = [&clock] { return std::chrono::nanoseconds(clock.Now().mono_ns); };
  options.sleep = [&clock](std::chrono::milliseconds d) { clock.Wait(d, [] { return false; }); };
  base::Result<power::OffReport> r = power::PowerOffConfirmed(env.power, env.host, options);
  OffResult off = OffResultOf(r, clock.Now());
  phases.End(p, off.confirmed ? store::PhaseOutcome::kPassed : store::PhaseOutcome::kFailed,
             why.empty() ? off.reason : why + "; " + off.reason);
  return off;
}

std::optional<store::Timestamp> PowerOnOf(const std::vector<store::PhaseRecord>& phases) {
  for (const store::PhaseRecord& p : phases) {
    if (p.name == "power on") return p.started;
  }
  return std::nullopt;
}

namespace {

bool ExposureOverLimit(const Ending& e, const store::DrillOutcome& o) {
  return e.exposure_limit && o.exposure_ms && *o.exposure_ms > e.exposure_limit->count();
}

}  // namespace

void SetExposureLimit(const config::StandbyConfig& standby, bool held, Ending* ending) {
  if (held) {
    ending->exposure_limit = standby.max_exposure + standby.max_hold;
    ending->exposure_limit_is = fmt::format("max_exposure of {} plus the max_hold of {}",
                                            base::FormatDuration(standby.max_exposure),
                                            base::FormatDuration(standby.max_hold));
  } else {
    ending->exposure_limit = standby.max_exposure;
    ending->exposure_limit_is =
        fmt::format("max_exposure of {}", base::FormatDuration(standby.max_exposure));
  }
}

store::DrillOutcome Conclude(const Ending& e, store::Timestamp now) {
  store::DrillOutcome o = e.outcome;
  o.at = e.off ? e.off->at : now;
  if (!e.power_on) return o;
  if (e.off && e.off->confirmed) {
    o.exposure_ms =
        e.same_boot ? MsBetween(*e.power_on, e.off->at) : e.off->at.wall_ms - e.power_on->wall_ms;
    if (ExposureOverLimit(e, o)) {
      o.reason += fmt::format(
          "{}the exposure of {} went past its limit, the {}", o.reason.empty() ? "" : "; ",
          base::FormatDuration(base::Duration(*o.exposure_ms)), e.exposure_limit_is);
    }
    return o;
  }
  o.result = store::DrillResult::kFailed;
  if (o.failed_phase.empty()) o.failed_phase = "shutdown";
  o.reason += fmt::format("{}THE STANDBY MAY STILL BE ON: it could not be confirmed off{}",
                          o.reason.empty() ? "" : "; ",
                          e.off ? " (" + e.off->reason + ")" : " (no shutdown ran)");
  return o;
}

base::Status FinishDrill(store::StateStore& store, int64_t drill_id, const Ending& ending,
                         store::Timestamp now, store::DrillOutcome* outcome) {
  *outcome = Conclude(ending, now);
  const store::DrillOutcome& o = *outcome;
  if (ending.power_on && !(ending.off && ending.off->confirmed)) {
    (void)store.AddEvent(drill_id, "error",
                         "the standby could not be confirmed off: " +
                             (ending.off ? ending.off->reason : std::string("no shutdown ran")),
                         o.at.wall_ms);
  }
  if (ExposureOverLimit(ending, o)) {
    (void)store.AddEvent(
        drill_id, "warn",
        fmt::format("the exposure of {} went past its limit, the {}",
                    base::FormatDuration(base::Duration(*o.exposure_ms)), ending.exposure_limit_is),
        o.at.wall_ms);
  }
  base::Status s = store.FinishDrill(drill_id, o);
  if (!s.ok()) {
    return base::Status(
        s.code(), fmt::format("could not record the end of drill {}: {}", drill_id, s.message()));
  }
  return s;
}

}  // namespace sb::drill
