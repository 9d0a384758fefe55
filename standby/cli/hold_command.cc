// `standbyctl hold status|extend|release`: the holds of failover preps
// (standby/drill/hold.h). `hold serve` is the holding process itself, started
// by `standbyctl prep`; it is not for people to run.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <ctime>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/units.h"
#include "standby/cli/after_drill.h"
#include "standby/cli/command.h"
#include "standby/drill/hold.h"
#include "standby/drill/live_ports.h"
#include "standby/power/agent_link.h"

namespace sb::cli {
namespace {

struct HoldArgs {
  std::string action;
  std::string standby;
  std::string by;      // extend: empty is 1h, unless only --resync is given
  std::string resync;  // extend: a new resync interval
  bool json = false;
  int64_t drill_id = 0;
  int lock_fd = -1;
};

int64_t NowMs() { return store::Timestamp::Now().wall_ms; }

// The open hold of `standby`, or nullopt after saying there is none.
std::optional<store::HoldRecord> OpenHold(store::StateStore& store, const std::string& standby) {
  base::Result<std::vector<store::HoldRecord>> holds = store.ListHolds();
  if (!holds.ok()) {
    ReportError(holds.status());
    return std::nullopt;
  }
  for (const store::HoldRecord& h : *holds) {
    if (h.standby == standby) return h;
  }
  fmt::print(stderr, "standbyctl: standby {} is not held (standbyctl hold status lists holds)\n",
             standby);
  return std::nullopt;
}

// A time as JSON: RFC 3339 UTC, or null.
nlohmann::json Time(std::optional<int64_t> wall_ms) {
  return wall_ms ? nlohmann::json(base::Rfc3339(*wall_ms)) : nlohmann::json(nullptr);
}

// The RPO a round achieved: its end less its source's newest change.
std::optional<int64_t> RoundRpoMs(const store::HoldRoundRecord& r) {
  if (!r.source_wall_ms) return std::nullopt;
  return std::max<int64_t>(0, r.ended_wall_ms - *r.source_wall_ms);
}

nlohmann::json RoundJson(const store::HoldRoundRecord& r) {
  const std::optional<int64_t> rpo = RoundRpoMs(r);
  return {{"round", r.round},
          {"started", Time(r.started_wall_ms)},
          {"ended", Time(r.ended_wall_ms)},
          {"ok", r.ok},
          {"entries_changed", r.entries_changed},
          {"bytes_wire", r.bytes_wire},
          {"rpo_seconds", rpo ? nlohmann::json(static_cast<double>(*rpo) / 1000) : nullptr},
          {"detail", r.detail}};
}

nlohmann::json HoldJson(const store::HoldRecord& h) {
  return {{"standby", h.standby},
          {"prep", h.drill_id},
          {"until", Time(h.until_wall_ms)},
          {"until_ms", h.until_wall_ms},
          {"limit", Time(h.limit_wall_ms)},
          {"resync_seconds", h.resync_ms ? nlohmann::json(static_cast<double>(*h.resync_ms) / 1000)
                                         : nlohmann::json(nullptr)},
          {"holder_pid", h.holder_pid ? nlohmann::json(*h.holder_pid) : nullptr},
          {"released", Time(h.released_wall_ms)},
          {"ended", Time(h.ended_wall_ms)}};
}

int Status(store::StateStore& store, const HoldArgs& args) {
  base::Result<std::vector<store::HoldRecord>> holds = store.ListHolds();
  if (!holds.ok()) return ReportError(holds.status());
  nlohmann::json out = nlohmann::json::array();
  for (const store::HoldRecord& h : *holds) {
    if (!args.standby.empty() && h.standby != args.standby) continue;
    const bool alive = h.holder_pid && ::kill(static_cast<pid_t>(*h.holder_pid), 0) == 0;
    const int64_t left = h.until_wall_ms - NowMs();
    base::Result<std::vector<store::HoldRoundRecord>> rounds = store.ListHoldRounds(h.drill_id);
    if (!rounds.ok()) return ReportError(rounds.status());
    // The standby is as current as its last good round (or the prep).
    const store::HoldRoundRecord* last = rounds->empty() ? nullptr : &rounds->back();
    const store::HoldRoundRecord* last_ok = nullptr;
    for (const store::HoldRoundRecord& r : *rounds) {
      if (r.ok) last_ok = &r;
    }
    // -1: unknown (no good round yet, or no source time).
    const int64_t rpo_now = last_ok != nullptr && last_ok->source_wall_ms
                                ? std::max<int64_t>(0, NowMs() - *last_ok->source_wall_ms)
                                : -1;
    if (args.json) {
      out.push_back(HoldJson(h));
      out.back()["holder_running"] = alive;
      out.back()["rounds"] = rounds->size();
      out.back()["last_round"] = last ? RoundJson(*last) : nlohmann::json(nullptr);
      out.back()["rpo_seconds"] = rpo_now >= 0 ? nlohmann::json(static_cast<double>(rpo_now) / 1000)
                                               : nlohmann::json(nullptr);
      continue;
    }
    fmt::print("{}: held by prep {} until {} ({}{}){}{}\n", h.standby, h.drill_id,
               LocalTime(h.until_wall_ms),
               left > 0 ? base::FormatDuration(base::Duration(left)) + " left" : "ending",
               h.limit_wall_ms ? ", at most until " + LocalTime(*h.limit_wall_ms) : "",
               h.released_wall_ms ? ", released: shutting down" : "",
               alive ? "" : ", its process is gone: the lease shuts the standby down");
    if (h.resync_ms) {
      fmt::print("  resync every {}: {}\n", base::FormatDuration(base::Duration(*h.resync_ms)),
                 rounds->empty()
                     ? std::string("no round yet")
                     : fmt::format("{} round{}", rounds->size(), rounds->size() == 1 ? "" : "s"));
    }
    if (last) {
      fmt::print("  last round {} at {}: {}: {}\n", last->round, LocalTime(last->ended_wall_ms),
                 last->ok ? "ok" : "FAILED", last->detail);
    }
    if (rpo_now >= 0) {
      fmt::print("  RPO now {} (the backup the last good round restored)\n",
                 base::FormatDuration(base::Duration(rpo_now)));
    }
    out.push_back(h.standby);
  }
  if (args.json) {
    fmt::print("{}\n", out.dump(2));
  } else if (out.empty()) {
    fmt::print("no standby is held\n");
  }
  return kExitOk;
}

int Extend(const config::Config& config, store::StateStore& store, const HoldArgs& args) {
  std::optional<store::HoldRecord> h = OpenHold(store, args.standby);
  if (!h) return kExitUsage;
  // --resync alone changes the interval only.
  const std::string by_text = args.by.empty() && args.resync.empty() ? "1h" : args.by;
  base::Result<base::Duration> by = by_text.empty()
                                        ? base::Result<base::Duration>(base::Duration(0))
                                        : base::ParseDuration(by_text);
  if (!by.ok()) return ReportError(by.status());
  if (!args.resync.empty()) {
    base::Result<base::Duration> resync = base::ParseDuration(args.resync);  // checked
    if (!resync.ok()) return ReportError(resync.status());
    base::Status s = store.SetHoldResync(h->drill_id, resync->count());
    if (!s.ok()) return ReportError(s);
    h->resync_ms = resync->count();
  }
  const int64_t now = NowMs();
  const int64_t until = std::max(h->until_wall_ms, now) + by->count();
  // Holds recorded before max_hold existed: at most 24h from now.
  const int64_t limit = h->limit_wall_ms.value_or(now + config::kMaxHoldLimit.count());
  if (until > limit) {
    const config::StandbyConfig* standby = config.FindStandby(h->standby);
    fmt::print(stderr,
               "standbyctl: {}: extending by {} would hold it until {}, past its limit of {} "
               "(the max_hold of {} from the hold's start); at most {} more. Release it and run "
               "a new prep to hold it longer.\n",
               h->standby, by_text, LocalTime(until), LocalTime(limit),
               standby ? base::FormatDuration(standby->max_hold) : std::string("?"),
               base::FormatDuration(
                   base::Duration(std::max<int64_t>(0, limit - std::max(h->until_wall_ms, now)))));
    return kExitUsage;
  }
  base::Status s = store.SetHoldUntil(h->drill_id, until);
  if (!s.ok()) return ReportError(s);
  h->until_wall_ms = until;
  if (args.json) {
    fmt::print("{}\n", HoldJson(*h).dump(2));
  } else {
    fmt::print("{}: held until {}{}\n", h->standby, LocalTime(until),
               h->resync_ms ? fmt::format(", brought current every {}",
                                          base::FormatDuration(base::Duration(*h->resync_ms)))
                            : std::string());
  }
  return kExitOk;
}

int Release(const config::Config& config, store::StateStore& store, const HoldArgs& args) {
  std::optional<store::HoldRecord> h = OpenHold(store, args.standby);
  if (!h) return kExitUsage;
  base::Status s = store.ReleaseHold(h->drill_id, NowMs());
  if (!s.ok()) return ReportError(s);
  if (!args.json)
    fmt::print("{}: released; waiting for the shutdown to be confirmed\n", h->standby);
  const config::StandbyConfig* standby = config.FindStandby(h->standby);
  const auto limit = std::chrono::steady_clock::now() + std::chrono::minutes(2) +
                     (standby ? 2 * standby->shutdown_timeout : std::chrono::minutes(10));
  while (std::chrono::steady_clock::now() < limit) {
    base::Result<store::HoldRecord> now = store.GetHold(h->drill_id);
    if (!now.ok()) return ReportError(now.status());
    if (now->ended_wall_ms) {
      base::Result<store::DrillRecord> d = store.GetDrill(h->drill_id);
      if (!d.ok()) return ReportError(d.status());
      if (args.json) {
        nlohmann::json out = HoldJson(*now);
        out["result"] = store::DrillResultName(d->outcome.result);
        out["reason"] = d->outcome.reason;
        out["exposure_seconds"] =
            d->outcome.exposure_ms
                ? nlohmann::json(static_cast<double>(*d->outcome.exposure_ms) / 1000)
                : nlohmann::json(nullptr);
        fmt::print("{}\n", out.dump(2));
      } else {
        fmt::print("{}: prep {} {}: {}\n", h->standby, d->id,
                   store::DrillResultName(d->outcome.result), d->outcome.reason);
      }
      return d->outcome.result == store::DrillResult::kPassed ? kExitOk : kExitFailed;
    }
    if (h->holder_pid && ::kill(static_cast<pid_t>(*h->holder_pid), 0) != 0) {
      fmt::print(stderr,
                 "standbyctl: the hold's process (pid {}) is gone; the agent's lease shuts the "
                 "standby down, and the next standbyctl command confirms it off\n",
                 *h->holder_pid);
      return kExitFailed;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  fmt::print(stderr,
             "standbyctl: {}: the shutdown was not confirmed in time; check with "
             "standbyctl power status --standby {}\n",
             h->standby, h->standby);
  return kExitFailed;
}

// The holding process. Its lock fd came from `standbyctl prep`; keeping it
// open keeps the standby's drill lock.
int Serve(const config::Config& config, store::StateStore& store, const HoldArgs& args) {
  struct stat st {};
  if (args.lock_fd < 0 || ::fstat(args.lock_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fmt::print(stderr,
               "standbyctl: hold serve needs the prep's lock (--lock-fd); it is started "
               "by standbyctl prep\n");
    return kExitUsage;
  }
  base::Result<store::HoldRecord> hold = store.GetHold(args.drill_id);
  if (!hold.ok() || hold->ended_wall_ms) {
    fmt::print(stderr, "standbyctl: prep {} has no open hold\n", args.drill_id);
    return kExitUsage;
  }
  const config::StandbyConfig* standby = FindStandbyOrReport(config, hold->standby);
  if (standby == nullptr) return kExitUsage;
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config.controller.tls);
  if (!tls.ok()) return ReportFailure(tls.status());
  power::AgentLink agent({standby->agent, standby->agent_name}, config.controller.tls);
  base::Result<std::unique_ptr<power::PowerDriver>> driver =
      power::MakePowerDriver(*standby, &agent);
  if (!driver.ok()) return ReportFailure(driver.status());

  // SIGTERM/SIGINT end the hold early (with the shutdown), from one thread.
  StopSignals signals("ending the hold and shutting the standby down");
  drill::LivePorts ports(*standby, *tls);
  drill::DrillEnv env{config, *standby, store, **driver, agent, ports.ports()};
  drill::HoldOptions options;
  options.drill_id = args.drill_id;
  options.stop = signals.flag();
  base::Result<drill::HoldEnd> end = drill::HoldStandby(env, options);
  if (!end.ok()) return ReportError(end.status());
  fmt::print(stderr, "hold of {} ended: {}; {}\n", standby->name, end->why, end->off.reason);
  AfterDrill(config, store, args.drill_id);
  return end->off.confirmed ? kExitOk : kExitFailed;
}

int RunHold(const GlobalOptions& global, const HoldArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  if (args.action == "status") return Status(**store, args);
  if (args.action == "extend") return Extend(*config, **store, args);
  if (args.action == "release") return Release(*config, **store, args);
  return Serve(*config, **store, args);
}

}  // namespace

void AddHoldCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* hold = app.add_subcommand(
      "hold", "The holds of failover preps: status, extend, release (see standbyctl prep)");
  hold->require_subcommand(1);
  auto args = std::make_shared<HoldArgs>();
  auto set = [action, args, &global](const char* name) {
    return [action, args, &global, name] {
      args->action = name;
      *action = [args, &global] { return RunHold(global, *args); };
    };
  };
  CLI::App* status = hold->add_subcommand("status", "List held standbys and until when");
  status->add_option("--standby", args->standby, "Only this standby");
  status->add_flag("--json", args->json, "Print JSON");
  status->callback(set("status"));
  CLI::App* extend = hold->add_subcommand(
      "extend",
      "Keep a held standby up longer; refused (exit 2) past the standby's max_hold from the "
      "hold's start");
  extend->add_option("--standby", args->standby, "The held standby")->required();
  extend->add_flag("--json", args->json, "Print the hold as JSON");
  extend
      ->add_option("--by", args->by, "How much longer (default 1h, or nothing with --resync alone)")
      ->check([](const std::string& text) {
        base::Result<base::Duration> d = base::ParseDuration(text);
        return d.ok() ? std::string() : d.status().message();
      });
  extend
      ->add_option("--resync", args->resync,
                   "Restore the newest backup again every this often from now on (see "
                   "standbyctl prep --resync)")
      ->check(ResyncIntervalError);
  extend->callback(set("extend"));
  CLI::App* release =
      hold->add_subcommand("release", "End a hold now: the standby is shut down and confirmed off");
  release->add_option("--standby", args->standby, "The held standby")->required();
  release->add_flag("--json", args->json, "Print the hold and the prep's result as JSON");
  release->callback(set("release"));
  CLI::App* serve = hold->add_subcommand("serve", "");  // started by prep; hidden
  serve->group("");
  serve->add_option("--drill", args->drill_id)->required();
  serve->add_option("--lock-fd", args->lock_fd)->required();
  serve->callback(set("serve"));
}

}  // namespace sb::cli
