// `standbyctl check --standby NAME [--check NAME]... [--json]`: the smoke
// checks of a standby that is up, run once each, now: no power, no restore,
// nothing recorded. For an operator before a failover, and after a prep.
//
// `standbyctl canary write DIR [--name FILE] [--time T]`: what a backup job
// runs last, so that each backup says when it was taken (README, "The
// canary").

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/base/units.h"
#include "standby/cli/command.h"
#include "standby/drill/checks.h"
#include "standby/drill/live_ports.h"
#include "standby/restore/source_age.h"

namespace sb::cli {
namespace {

struct CheckArgs {
  std::string standby;
  std::vector<std::string> only;
  bool json = false;
};

bool NeedsAgent(config::CheckKind kind) {
  return kind == config::CheckKind::kCommand || kind == config::CheckKind::kFile ||
         kind == config::CheckKind::kCanary;
}

int RunCheck(const GlobalOptions& global, const CheckArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  std::vector<const config::SmokeCheck*> checks;
  for (const std::string& name : args.only) {
    auto it = std::find_if(standby->checks.begin(), standby->checks.end(),
                           [&](const config::SmokeCheck& c) { return c.name == name; });
    if (it == standby->checks.end()) {
      fmt::print(stderr, "standbyctl: standby {} in {} has no check named \"{}\"\n", standby->name,
                 config->path, name);
      return kExitUsage;
    }
    checks.push_back(&*it);
  }
  if (args.only.empty()) {
    for (const config::SmokeCheck& c : standby->checks) checks.push_back(&c);
  }
  if (checks.empty()) {
    fmt::print(stderr, "standbyctl: standby {} in {} has no checks to run\n", standby->name,
               config->path);
    return kExitUsage;
  }

  // The agent only when a check reads the standby through it; when it does
  // not answer, those checks could not run, and say why.
  std::unique_ptr<drill::AgentSession> agent;
  std::string agent_error;
  if (std::any_of(checks.begin(), checks.end(),
                  [](const config::SmokeCheck* c) { return NeedsAgent(c->kind); })) {
    base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config->controller.tls);
    base::Result<std::unique_ptr<drill::AgentSession>> dialed = tls.status();
    if (tls.ok()) {
      drill::TlsDialer dialer(*tls);
      dialed = dialer.Dial({standby->agent, standby->agent_name}, std::chrono::seconds(10));
    }
    if (dialed.ok()) {
      agent = std::move(*dialed);
    } else {
      agent_error = dialed.status().message();
    }
  }

  const drill::CheckTarget target = drill::TargetFor(*config, *standby);
  std::vector<store::CheckResultRecord> results;
  size_t passed = 0;
  for (const config::SmokeCheck* c : checks) {
    drill::CheckRun run;
    if (NeedsAgent(c->kind) && agent == nullptr) {
      run.result.name = c->name;
      run.result.kind = std::string(config::CheckKindName(c->kind));
      run.result.outcome = store::CheckOutcome::kNotRun;
      run.result.detail = "no connection to the standby's agent: " + agent_error;
    } else {
      run = drill::RunSmokeCheck(*c, target, agent.get());
    }
    if (run.result.outcome == store::CheckOutcome::kPassed) ++passed;
    if (!args.json) {
      fmt::print("{:<20} {:<8} {:<7} {:>7}  {}\n", run.result.name, run.result.kind,
                 store::CheckOutcomeName(run.result.outcome),
                 base::FormatDuration(base::Duration(run.result.duration_ms)), run.result.detail);
      std::fflush(stdout);
    }
    results.push_back(std::move(run.result));
  }
  if (args.json) {
    nlohmann::json out = {{"standby", standby->name},
                          {"passed", passed == results.size()},
                          {"checks", nlohmann::json::array()}};
    for (const store::CheckResultRecord& r : results) {
      nlohmann::json measured = nlohmann::json::parse(r.measured, nullptr, false);
      out["checks"].push_back(
          {{"name", r.name},
           {"kind", r.kind},
           {"outcome", store::CheckOutcomeName(r.outcome)},
           {"duration_ms", r.duration_ms},
           {"detail", r.detail},
           {"measured", measured.is_discarded() ? nlohmann::json::object() : measured}});
    }
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("{}: {} of {} checks passed\n", standby->name, passed, results.size());
  }
  return passed == results.size() ? kExitOk : kExitFailed;
}

struct CanaryArgs {
  std::string dir;
  std::string name = ".backup-canary";
  std::string time;  // default: now
};

// 2026-12-01T03:00:00Z
std::string IsoUtcSeconds(int64_t wall_ms) {
  std::string s = UtcTime(wall_ms);
  s[10] = 'T';
  return s + "Z";
}

int RunCanaryWrite(const CanaryArgs& args) {
  int64_t at = store::Timestamp::Now().wall_ms;
  if (!args.time.empty()) {
    base::Result<int64_t> parsed = restore::ParseCanaryTime(args.time);
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("--time"));
    at = *parsed;
  }
  if (args.name.empty() || args.name.find('/') != std::string::npos || args.name == "." ||
      args.name == "..") {
    return ReportError(base::Status::Invalid(
        fmt::format("--name \"{}\" must be a file name, without '/'", args.name)));
  }
  struct stat st {};
  if (::stat(args.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ReportError(base::Status::Invalid(
        fmt::format("{} is not a directory (give the backup's top directory)", args.dir)));
  }
  const std::string path = args.dir + "/" + args.name;
  const std::string text = IsoUtcSeconds(at) + "\n";
  base::Status s = base::WriteFileAtomically(path, text, 0644);
  if (!s.ok()) return ReportError(s);
  fmt::print("{}: {}", path, text);
  return kExitOk;
}

}  // namespace

void AddCheckCommand(CLI::App& app, GlobalOptions& options, Action* action) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Run a standby's smoke checks once, now, against the standby as it is (it must be up): no "
      "power, no restore, nothing recorded. Exit 0 when every check passed, 1 otherwise");
  cmd->add_option("--standby", args->standby, "The standby, by its name in the config")->required();
  cmd->add_option("--check", args->only, "Run only this check (repeatable)");
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  cmd->callback([&options, args, action] {
    *action = [&options, args] { return RunCheck(options, *args); };
  });
}

void AddCanaryCommand(CLI::App& app, GlobalOptions& /*options*/, Action* action) {
  CLI::App* canary = app.add_subcommand(
      "canary", "The file a backup job writes into each backup with the time it was taken");
  canary->require_subcommand(1);
  auto args = std::make_shared<CanaryArgs>();
  CLI::App* write = canary->add_subcommand(
      "write",
      "Write DIR/.backup-canary holding the time (YYYY-MM-DDTHH:MM:SSZ, UTC), atomically; run it "
      "as the backup job's last step. Reads no config");
  write->add_option("dir", args->dir, "The backup's top directory")->required();
  write->add_option("--name", args->name, "The canary's file name")->capture_default_str();
  write->add_option("--time", args->time,
                    "The backup's time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ); default: now");
  write->callback([args, action] { *action = [args] { return RunCanaryWrite(*args); }; });
}

}  // namespace sb::cli
