// `standbyctl restore --standby NAME [--dry-run] [--list] [--json]`: brings
// each of the standby's restore mappings to the state of its backup source
// over the standby's agent (standby/restore/restore_run.h), all or nothing
// per mapping, and records the statistics in the state store. --dry-run
// only prints the plan.

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/units.h"
#include "standby/cli/command.h"
#include "standby/cli/progress_view.h"
#include "standby/restore/restore_record.h"

namespace sb::cli {
namespace {

struct RestoreArgs {
  std::string standby;
  bool dry_run = false;
  bool allow_mass_delete = false;
  bool list = false;
  bool json = false;
  bool force = false;
};

int64_t NowMs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

std::string Age(int64_t newest_ns) {
  if (newest_ns == 0) return "none";
  const int64_t now_ms = NowMs();
  const int64_t age_ms = now_ms - newest_ns / 1'000'000;
  return age_ms < 0 ? "in the future" : base::FormatDuration(base::Duration(age_ms)) + " old";
}

void PrintText(const config::StandbyConfig& standby, const restore::RestoreReport& r, bool list) {
  const bool applied = !r.spec.dry_run;
  fmt::print("{}: {} -> {}{}\n", standby.name, r.spec.source, r.spec.target,
             applied ? "" : " (dry run: nothing changed)");
  fmt::print("  source  {} ({}{}), {} entries, newest change: {}\n", r.source.path,
             r.source.kind == restore::ResolvedSource::Kind::kArchive ? "archive" : "directory",
             r.source.followed.empty() ? "" : ", via the symlink " + r.source.followed,
             r.source_entries, Age(r.source_newest_ns));
  fmt::print("  target  {} entries before\n", r.target_entries);
  if (!r.recovered.empty()) {
    fmt::print("  note    an interrupted earlier restore was {} first\n", r.recovered);
  }
  for (size_t i = 0; i < restore::kActionCount; ++i) {
    const restore::ActionTotals& t = r.plan.totals[i];
    std::string bytes = t.bytes > 0 ? base::FormatSize(t.bytes) : "";
    fmt::print("  {:<14} {:>8}  {}\n", restore::ActionName(static_cast<restore::Action>(i)),
               t.count, bytes);
  }
  for (const std::string& line :
       restore::DriftLines(r, applied ? "overwritten now" : "a restore overwrites them")) {
    fmt::print("  {}\n", line);
  }
  fmt::print("  read    {}\n", restore::VerifyWords(r));
  if (applied) {
    fmt::print("  bytes   {} literal, {} matched, {} on the wire\n",
               base::FormatSize(r.literal_bytes), base::FormatSize(r.matched_bytes),
               base::FormatSize(r.wire_bytes));
    fmt::print("  time    scan {} ms, plan {} ms, transfer {} ms, commit {} ms\n", r.scan_ms,
               r.plan_ms, r.transfer_ms, r.commit_ms);
    fmt::print(
        "  digest  {} (equal to the source's; the target's side hashes files not re-read "
        "from the cache, see \"read\")\n",
        r.target_digest);
  }
  if (!list) return;
  for (const restore::PlannedEntry& e : r.plan.entries) {
    fmt::print("  {:<14} {}{}\n", restore::ActionName(e.action), e.path,
               e.link_to.empty() ? "" : " => " + e.link_to);
  }
}

// An action's name as a JSON key or value: "hard link" is "hard_link".
std::string ActionKey(restore::Action action) {
  std::string key(restore::ActionName(action));
  std::replace(key.begin(), key.end(), ' ', '_');
  return key;
}

nlohmann::json ToJson(const restore::RestoreReport& r, bool list) {
  nlohmann::json totals = nlohmann::json::object();
  for (size_t i = 0; i < restore::kActionCount; ++i) {
    totals[ActionKey(static_cast<restore::Action>(i))] = {{"count", r.plan.totals[i].count},
                                                          {"bytes", r.plan.totals[i].bytes}};
  }
  nlohmann::json j = {
      {"source", r.spec.source},
      {"resolved_source", r.source.path},
      {"followed_symlink", r.source.followed},
      {"target", r.spec.target},
      {"dry_run", r.spec.dry_run},
      {"source_entries", r.source_entries},
      {"target_entries", r.target_entries},
      {"source_newest_ns", r.source_newest_ns},
      {"recovered", r.recovered},
      {"hash_cache_used", r.hash_cache_used},
      {"target_hashed_bytes", r.target_hashed_bytes},
      {"drift", restore::DriftJson(r.drift)},
      {"drift_counts", restore::DriftCountsJson(r.drift_counts)},
      {"drift_truncated", r.drift_truncated},
      {"verify", r.verify ? restore::VerifyJson(*r.verify) : nlohmann::json()},
      {"totals", totals},
      {"bytes_literal", r.literal_bytes},
      {"bytes_matched", r.matched_bytes},
      {"bytes_wire", r.wire_bytes},
      {"target_directories",
       r.target_directories ? nlohmann::json(*r.target_directories) : nlohmann::json()},
      {"target_directories_read",
       r.target_directories_read ? nlohmann::json(*r.target_directories_read) : nlohmann::json()},
      {"scan_ms", r.scan_ms},
      {"plan_ms", r.plan_ms},
      {"transfer_ms", r.transfer_ms},
      {"commit_ms", r.commit_ms},
      {"source_digest", r.source_digest},
      {"target_digest", r.target_digest}};
  if (r.spec.dry_run) {
    j["refusal"] = r.refusal.ok() ? nlohmann::json() : nlohmann::json(r.refusal.message());
  }
  if (list) {
    nlohmann::json entries = nlohmann::json::array();
    for (const restore::PlannedEntry& e : r.plan.entries) {
      entries.push_back({{"path", e.path}, {"action", ActionKey(e.action)}});
    }
    j["entries"] = std::move(entries);
  }
  return j;
}

int RunRestoreCommand(const GlobalOptions& global, const RestoreArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  if (standby->restores.empty()) {
    fmt::print(stderr, "standbyctl: standby {} has no [[standby.restore]] mappings\n",
               standby->name);
    return kExitUsage;
  }
  base::Result<std::unique_ptr<store::StateStore>> opened = OpenStateStore(*config);
  if (!opened.ok()) return ReportError(opened.status());
  std::unique_ptr<store::StateStore> store = std::move(*opened);
  // A dry run records nothing.
  store::StateStore* record = args.dry_run ? nullptr : store.get();
  std::optional<std::unique_ptr<drill::DrillLock>> lock = LockForManualCommand(
      *config, *store, standby->name, args.force, args.dry_run ? "restore --dry-run" : "restore");
  if (!lock) return kExitUsage;
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config->controller.tls);
  if (!tls.ok()) {
    fmt::print(stderr, "standbyctl: controller TLS: {}\n", tls.status().message());
    return kExitUsage;
  }
  client::ClientOptions options;
  options.request_timeout = std::chrono::minutes(10);  // a commit may hash a large target
  base::Result<std::unique_ptr<client::AgentClient>> agent =
      client::AgentClient::Connect({standby->agent, standby->agent_name}, *tls, options);
  if (!agent.ok()) {
    fmt::print(stderr, "standbyctl: {}\n", agent.status().message());
    return kExitFailed;
  }
  nlohmann::json all = nlohmann::json::array();
  int exit_code = kExitOk;
  ProgressView progress;
  for (const config::RestoreMapping& mapping : standby->restores) {
    restore::RestoreSpec spec = restore::SpecFor(*config, mapping);
    spec.on_progress = progress.Callback();
    spec.dry_run = args.dry_run;
    spec.allow_mass_delete = args.allow_mass_delete;
    base::Status drift_saved;
    if (record != nullptr) {
      spec.on_drift = [&](const std::vector<sync::Drift>& drift) {
        drift_saved = record->AddDrift(
            restore::DriftRecordsOf(standby->name, mapping.target, drift, std::nullopt, NowMs()));
      };
    }
    base::Result<restore::RestoreReport> r = restore::RunRestore(**agent, spec);
    if (!drift_saved.ok()) return ReportError(drift_saved);
    if (!r.ok()) {
      // The message ends saying what the target holds now.
      fmt::print(stderr, "standbyctl: restore {} -> {} failed: {}\n", mapping.source,
                 mapping.target, r.status().message());
      return r.status().code() == base::Code::kInternal ? kExitInternal : kExitFailed;
    }
    if (record != nullptr) {
      base::Status saved =
          record->AddRestoreStats(restore::StatsOf(standby->name, *r, std::nullopt, NowMs()));
      if (!saved.ok()) return ReportError(saved);
    }
    if (args.json) {
      all.push_back(ToJson(*r, args.list));
    } else {
      PrintText(*standby, *r, args.list);
    }
    if (r->Corrupt() > 0) {
      fmt::print(stderr,
                 "standbyctl: {}: {} file{} read back from the standby's disk with other bytes "
                 "than the last restore wrote (corruption at rest){}; {}\n",
                 mapping.target, r->Corrupt(), r->Corrupt() == 1 ? "" : "s",
                 args.dry_run ? "" : ", repaired from the source",
                 mapping.fail_on_corrupt ? "a standby whose disk rots cannot be trusted "
                                           "(on_corrupt = fail)"
                                         : "on_corrupt = warn");
      if (mapping.fail_on_corrupt) exit_code = kExitFailed;
    }
    if (!r->refusal.ok()) {  // a dry run the real restore would refuse
      fmt::print(stderr, "standbyctl: restore {} -> {} would be refused: {}\n", mapping.source,
                 mapping.target, r->refusal.message());
      exit_code = kExitFailed;
    }
  }
  if (args.json) fmt::print("{}\n", all.dump(2));
  return exit_code;
}

}  // namespace

void AddRestoreCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* restore = app.add_subcommand(
      "restore",
      "Bring each of a standby's restore mappings to the state of its backup source, sending "
      "only what changed (librsync deltas), all or nothing per mapping. Prints and records "
      "what was done; --dry-run only prints the plan.");
  auto args = std::make_shared<RestoreArgs>();
  restore->add_option("--standby", args->standby, "The standby's name in the config")->required();
  restore->add_flag("-n,--dry-run", args->dry_run,
                    "Only print the plan and what would refuse it; change nothing");
  restore->add_flag("--allow-mass-delete", args->allow_mass_delete,
                    "Delete more of a target than its max_delete allows (for a backup that "
                    "really lost most of its files)");
  restore->add_flag("--list", args->list, "List every path that changes");
  restore->add_flag("--json", args->json, "Print JSON");
  restore->add_flag("--force", args->force, "Go on even when a drill or a hold has the standby");
  restore->callback([action, args, &global] {
    *action = [args, &global] { return RunRestoreCommand(global, *args); };
  });
}

}  // namespace sb::cli
