// `standbyctl restore --standby NAME --dry-run [--list] [--json]`: what a
// restore of each of the standby's mappings would do, from the backup
// source's manifest and the target's scan by the standby's agent.
//
// Applying a restore (the delta transfer and the all-or-nothing commit) is
// not built yet, so --dry-run is required and the help says so.

#include <ctime>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/units.h"
#include "agent/client/remote_scan.h"
#include "standby/cli/command.h"
#include "standby/restore/plan.h"
#include "standby/restore/source_manifest.h"

namespace sb::cli {
namespace {

struct RestoreArgs {
  std::string standby;
  bool dry_run = false;
  bool list = false;
  bool json = false;
};

struct MappingPlan {
  const config::RestoreMapping* mapping;
  restore::ResolvedSource source;
  size_t source_entries = 0;
  size_t target_entries = 0;
  int64_t newest_ns = 0;
  restore::Plan plan;
};

base::Result<MappingPlan> PlanMapping(client::AgentClient& agent,
                                      const config::RestoreMapping& mapping) {
  MappingPlan out{&mapping, {}, 0, 0, 0, {}};
  base::Result<restore::ResolvedSource> source = restore::ResolveSource(mapping.source);
  if (!source.ok()) return source.status();
  out.source = *source;
  base::Result<std::unique_ptr<restore::SourceReader>> reader =
      restore::SourceReader::Open(*source);
  if (!reader.ok()) return reader.status();
  std::map<std::string, std::string> hardlinks;
  base::Result<std::vector<sync::ManifestEntry>> wanted = restore::ManifestOf(**reader, &hardlinks);
  if (!wanted.ok()) return wanted.status();
  out.newest_ns = std::max((*reader)->newest_mtime_ns(), source->file_mtime_ns);
  base::Result<std::vector<sync::ManifestEntry>> have = client::ScanRemote(agent, mapping.target);
  if (!have.ok()) return have.status().WithContext(fmt::format("target {}", mapping.target));
  out.source_entries = wanted->size();
  out.target_entries = have->size();
  out.plan = restore::MakePlan(std::move(*wanted), std::move(*have), hardlinks, {});
  return out;
}

std::string Age(int64_t newest_ns) {
  const int64_t now_ms = static_cast<int64_t>(std::time(nullptr)) * 1000;
  const int64_t age_ms = now_ms - newest_ns / 1'000'000;
  return age_ms < 0 ? "in the future" : base::FormatDuration(base::Duration(age_ms)) + " old";
}

void PrintText(const config::StandbyConfig& standby, const MappingPlan& m, bool list) {
  fmt::print("{}: {} -> {}\n", standby.name, m.mapping->source, m.mapping->target);
  fmt::print("  source  {} ({}), {} entries, newest change {}\n", m.source.path,
             m.source.kind == restore::ResolvedSource::Kind::kArchive ? "archive" : "directory",
             m.source_entries, Age(m.newest_ns));
  fmt::print("  target  {} entries now\n", m.target_entries);
  for (size_t i = 0; i < restore::kActionCount; ++i) {
    const restore::ActionTotals& t = m.plan.totals[i];
    std::string bytes = t.bytes > 0 ? base::FormatSize(t.bytes) : "";
    fmt::print("  {:<14} {:>8}  {}\n", restore::ActionName(static_cast<restore::Action>(i)),
               t.count, bytes);
  }
  if (!list) return;
  for (const restore::PlannedEntry& e : m.plan.entries) {
    if (e.action == restore::Action::kUnchanged) continue;
    fmt::print("  {:<14} {}{}\n", restore::ActionName(e.action), e.path,
               e.link_to.empty() ? "" : " => " + e.link_to);
  }
}

nlohmann::json ToJson(const MappingPlan& m, bool list) {
  nlohmann::json totals = nlohmann::json::object();
  for (size_t i = 0; i < restore::kActionCount; ++i) {
    totals[std::string(restore::ActionName(static_cast<restore::Action>(i)))] = {
        {"count", m.plan.totals[i].count}, {"bytes", m.plan.totals[i].bytes}};
  }
  nlohmann::json j = {{"source", m.mapping->source},
                      {"resolved_source", m.source.path},
                      {"target", m.mapping->target},
                      {"source_entries", m.source_entries},
                      {"target_entries", m.target_entries},
                      {"source_newest_ns", m.newest_ns},
                      {"totals", totals}};
  if (list) {
    nlohmann::json entries = nlohmann::json::array();
    for (const restore::PlannedEntry& e : m.plan.entries) {
      if (e.action == restore::Action::kUnchanged) continue;
      entries.push_back({{"path", e.path}, {"action", restore::ActionName(e.action)}});
    }
    j["entries"] = std::move(entries);
  }
  return j;
}

int RunRestore(const GlobalOptions& global, const RestoreArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  if (standby->restores.empty()) {
    fmt::print(stderr, "standbyctl: standby {} has no [[standby.restore]] mappings\n",
               standby->name);
    return kExitUsage;
  }
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config->controller.tls);
  if (!tls.ok()) {
    fmt::print(stderr, "standbyctl: controller TLS: {}\n", tls.status().message());
    return kExitUsage;
  }
  base::Result<std::unique_ptr<client::AgentClient>> agent =
      client::AgentClient::Connect({standby->agent, standby->agent_name}, *tls);
  if (!agent.ok()) {
    fmt::print(stderr, "standbyctl: {}\n", agent.status().message());
    return kExitFailed;
  }
  nlohmann::json all = nlohmann::json::array();
  for (const config::RestoreMapping& mapping : standby->restores) {
    base::Result<MappingPlan> m = PlanMapping(**agent, mapping);
    if (!m.ok()) {
      fmt::print(stderr, "standbyctl: {}\n", m.status().message());
      return m.status().code() == base::Code::kInvalidArgument ||
                     m.status().code() == base::Code::kNotFound
                 ? kExitFailed
                 : kExitInternal;
    }
    if (args.json) {
      all.push_back(ToJson(*m, args.list));
    } else {
      PrintText(*standby, *m, args.list);
    }
  }
  if (args.json) fmt::print("{}\n", all.dump(2));
  return kExitOk;
}

}  // namespace

void AddRestoreCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* restore = app.add_subcommand(
      "restore",
      "Plan the differential restore of a standby's mappings: what would be unchanged, sent "
      "as a delta or whole, created or deleted. Applying a restore is not built yet, so "
      "--dry-run is required.");
  auto args = std::make_shared<RestoreArgs>();
  restore->add_option("--standby", args->standby, "The standby's name in the config")->required();
  restore->add_flag("--dry-run", args->dry_run, "Only print the plan (required for now)")
      ->required();
  restore->add_flag("--list", args->list, "List every path that would change");
  restore->add_flag("--json", args->json, "Print JSON");
  restore->callback(
      [action, args, &global] { *action = [args, &global] { return RunRestore(global, *args); }; });
}

}  // namespace sb::cli
