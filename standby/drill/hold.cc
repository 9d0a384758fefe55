#include "standby/drill/hold.h"

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"
#include "standby/restore/restore_record.h"
#include "standby/restore/source_age.h"

namespace sb::drill {
namespace {

bool Stopped(const HoldOptions& options) {
  return options.stop != nullptr && options.stop->load() != 0;
}

// Why the hold must end now, or empty; `hold` as just read from the store.
std::string WhyHoldEnds(const DrillEnv& env, const HoldOptions& options,
                        const base::Result<store::HoldRecord>& hold, store::Timestamp now) {
  if (Stopped(options))
    return fmt::format("the hold was stopped by signal {}", options.stop->load());
  if (!hold.ok()) {
    return fmt::format("the hold's record could not be read: {}", hold.status().message());
  }
  if (hold->released_wall_ms) return "released by the operator";
  if (hold->limit_wall_ms && now.wall_ms >= *hold->limit_wall_ms) {
    return fmt::format("the hold reached the standby's max_hold of {}",
                       base::FormatDuration(env.standby.max_hold));
  }
  if (now.wall_ms >= hold->until_wall_ms) return "the hold ran out";
  return "";
}

}  // namespace

store::HoldRoundRecord ResyncRound(const DrillEnv& env, int64_t drill_id, int64_t round) {
  store::HoldRoundRecord r;
  r.drill_id = drill_id;
  r.round = round;
  r.started_wall_ms = env.ports.clock.Now().wall_ms;
  std::vector<std::string> done, failed;
  // The RPO's input, read before the restore as the drill's preflight does.
  for (const config::RestoreMapping& m : env.standby.restores) {
    base::Result<restore::SourceAge> age = restore::ReadSourceAge(m);
    base::Status usable =
        age.ok() ? restore::CheckSourceAge(m, *age, r.started_wall_ms) : age.status();
    if (!usable.ok()) {
      failed.push_back(usable.message());
      continue;
    }
    if (!r.source_wall_ms || age->newest_wall_ms < *r.source_wall_ms) {
      r.source_wall_ms = age->newest_wall_ms;
    }
  }
  std::unique_ptr<AgentSession> agent;
  if (failed.empty()) {
    base::Result<std::unique_ptr<AgentSession>> dialed = env.ports.dialer.Dial(
        {env.standby.agent, env.standby.agent_name}, std::chrono::seconds(10));
    if (dialed.ok()) {
      agent = std::move(*dialed);
    } else {
      failed.push_back(dialed.status().message());
    }
  }
  for (const config::RestoreMapping& m : env.standby.restores) {
    if (!failed.empty()) break;  // the targets stay as they are
    restore::RestoreSpec spec = restore::SpecFor(env.config, m);
    spec.on_drift = [&](const std::vector<sync::Drift>& found) {
      base::Status saved = env.store.AddDrift(restore::DriftRecordsOf(
          env.standby.name, m.target, found, drill_id, env.ports.clock.Now().wall_ms));
      if (!saved.ok()) spdlog::error("could not record drift: {}", saved.message());
    };
    base::Result<restore::RestoreReport> report = agent->Restore(spec);
    if (!report.ok()) {
      // The message ends saying what the target holds now.
      failed.push_back(fmt::format("{} -> {}: {}", m.source, m.target, report.status().message()));
      break;
    }
    const store::RestoreStatsRecord stats =
        restore::StatsOf(env.standby.name, *report, drill_id, env.ports.clock.Now().wall_ms);
    const int64_t changed = stats.files_changed + stats.files_new + stats.files_deleted;
    r.entries_changed += changed;
    r.bytes_wire += stats.bytes_wire;
    done.push_back(fmt::format("{}: {} entries changed, {} on the wire", m.target, changed,
                               base::FormatSize(static_cast<uint64_t>(stats.bytes_wire))));
    if (report->Corrupt() > 0 && m.fail_on_corrupt) {
      failed.push_back(
          fmt::format("{}: {} file{} read back with other bytes than the last "
                      "restore wrote (corruption at rest), repaired",
                      m.target, report->Corrupt(), report->Corrupt() == 1 ? "" : "s"));
    }
  }
  r.ended_wall_ms = env.ports.clock.Now().wall_ms;
  r.ok = failed.empty();
  r.detail = r.ok ? fmt::format("{}", fmt::join(done, "; "))
                  : fmt::format("{}{}{}", fmt::join(failed, "; "),
                                done.empty() ? "" : "; done: ", fmt::join(done, "; "));
  if (r.ok) {
    spdlog::info("resync round {} of {}: {}; RPO {}", round, env.standby.name, r.detail,
                 r.source_wall_ms ? base::FormatDuration(base::Duration(
                                        std::max<int64_t>(0, r.ended_wall_ms - *r.source_wall_ms)))
                                  : std::string("unknown"));
  } else {
    spdlog::warn("resync round {} of {} FAILED, tried again at the next interval: {}", round,
                 env.standby.name, r.detail);
  }
  base::Status saved = env.store.AddHoldRound(r);
  if (!saved.ok()) spdlog::error("{}", saved.message());
  return r;
}

base::Result<HoldEnd> HoldStandby(const DrillEnv& env, const HoldOptions& options) {
  base::Result<store::HoldRecord> hold = env.store.GetHold(options.drill_id);
  if (!hold.ok()) return hold.status();
  base::Result<store::DrillRecord> drill = env.store.GetDrill(options.drill_id);
  if (!drill.ok()) return drill.status();
  if (drill->outcome.result != store::DrillResult::kRunning) {
    return base::Status::NotFound(fmt::format("prep {} of {} is not open in {}", options.drill_id,
                                              env.standby.name, env.store.path()));
  }
  base::Result<std::vector<store::PhaseRecord>> recorded = env.store.ListPhases(drill->id);
  if (!recorded.ok()) return recorded.status();

  HoldEnd end;
  Clock& clock = env.ports.clock;
  base::Status taken = env.ports.lease.Take(LeaseHolder(options.drill_id));
  if (!taken.ok()) {
    end.why = fmt::format("the hold could not take over the lease: {}", taken.message());
  } else {
    (void)env.store.SetHoldPid(options.drill_id, ::getpid());
    spdlog::info("holding {} for prep {} until {} (max_hold {})", env.standby.name,
                 options.drill_id, base::Rfc3339(hold->until_wall_ms),
                 base::FormatDuration(env.standby.max_hold));
  }
  // Bounded: by the hold's limit (max_hold from its start), whatever its
  // `until` says. Every resync interval (read again each time: `hold
  // extend --resync` changes it), a round of restores; a round in progress
  // is finished before an end is noticed.
  int64_t round = 0;
  int64_t next_round_ms = 0;  // 0: not scheduled
  while (end.why.empty()) {
    // One read a poll: the end, the limit and the interval come from it.
    base::Result<store::HoldRecord> now = env.store.GetHold(options.drill_id);
    end.why = WhyHoldEnds(env, options, now, clock.Now());
    if (!end.why.empty()) break;
    const int64_t now_ms = clock.Now().wall_ms;
    if (now.ok() && now->resync_ms) {
      // The prep has just restored: the first round one interval later.
      if (next_round_ms == 0) next_round_ms = now_ms + *now->resync_ms;
      if (now_ms >= next_round_ms) {
        ResyncRound(env, options.drill_id, ++round);
        next_round_ms = now_ms + *now->resync_ms;
        continue;
      }
    }
    clock.Wait(options.poll, [&] { return Stopped(options); });
  }
  spdlog::info("hold of {} ends: {}", env.standby.name, end.why);
  env.ports.lease.StopRenewing();

  PhaseLog phases(env.store, clock, options.drill_id);
  Ending ending;
  ending.outcome = drill->outcome;  // the figures the prep recorded
  ending.outcome.result = store::DrillResult::kPassed;
  ending.outcome.reason = fmt::format("held, then {}", end.why);
  ending.power_on =
      PowerOnOf(*recorded);  // same boot: the monotonic clocks of the two processes agree
  SetExposureLimit(env.standby, /*held=*/true, &ending);
  ending.off = ShutDown(env, phases, options.off_poll, end.why);
  end.off = *ending.off;
  (void)env.store.EndHold(options.drill_id, end.off.at.wall_ms);
  base::Status s = FinishDrill(env.store, options.drill_id, ending, clock.Now(), &end.outcome);
  if (!s.ok()) spdlog::error("{}", s.message());
  return end;
}

}  // namespace sb::drill
