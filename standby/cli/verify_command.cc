// `standbyctl verify --standby NAME [--full] [--json]`: the re-read a
// restore makes of its target's unchanged files (agent/sync/reverify.h),
// on demand and without restoring: the standby's agent reads back this
// pass's share of each mapping's target (every file with --full) and
// compares it with the hashes the last restore left, and reports drift
// against that restore. Nothing on the target changes. Exits 1 when a file
// reads back with other bytes (corruption at rest), 0 otherwise; drift is
// shown and recorded but left to the next restore.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agent/client/remote_scan.h"
#include "standby/cli/command.h"
#include "standby/restore/restore_record.h"

namespace sb::cli {
namespace {

struct VerifyArgs {
  std::string standby;
  bool full = false;
  bool json = false;
};

int64_t NowMs() { return store::Timestamp::Now().wall_ms; }

sync::VerifyPolicy PolicyFor(const config::RestoreMapping& m, bool full) {
  sync::VerifyPolicy p;
  // A mapping that never re-reads during restores is read whole on demand.
  p.every = m.verify_every > 0 ? m.verify_every : 1;
  p.budget = m.verify_budget;
  p.full = full || m.verify_every == 0;
  return p;
}

int RunVerifyCommand(const GlobalOptions& global, const VerifyArgs& args) {
  std::optional<config::Config> config = LoadConfigOrReport(global);
  if (!config) return kExitUsage;
  const config::StandbyConfig* standby = FindStandbyOrReport(*config, args.standby);
  if (standby == nullptr) return kExitUsage;
  if (standby->restores.empty()) {
    fmt::print(stderr, "standbyctl: standby {} has no [[standby.restore]] mappings to verify\n",
               standby->name);
    return kExitUsage;
  }
  base::Result<std::unique_ptr<store::StateStore>> store = OpenStateStore(*config);
  if (!store.ok()) return ReportError(store.status());
  base::Result<net::TlsContext> tls = net::TlsContext::ForClient(config->controller.tls);
  if (!tls.ok()) {
    fmt::print(stderr, "standbyctl: controller TLS: {}\n", tls.status().message());
    return kExitUsage;
  }
  client::ClientOptions options;
  options.request_timeout = std::chrono::hours(2);  // --full reads the whole target
  base::Result<std::unique_ptr<client::AgentClient>> agent =
      client::AgentClient::Connect({standby->agent, standby->agent_name}, *tls, options);
  if (!agent.ok()) {
    fmt::print(stderr,
               "standbyctl: {} (the standby must be up: standbyctl power on, or a "
               "prep's hold)\n",
               agent.status().message());
    return kExitFailed;
  }
  nlohmann::json all = nlohmann::json::array();
  int exit_code = kExitOk;
  for (const config::RestoreMapping& m : standby->restores) {
    client::ScanInfo info;
    const sync::VerifyPolicy policy = PolicyFor(m, args.full);
    base::Status s = client::VerifyRemote(**agent, m.target, policy, &info);
    if (!s.ok()) {
      fmt::print(stderr, "standbyctl: verify {}: {}\n", m.target, s.message());
      return s.code() == base::Code::kInternal ? kExitInternal : kExitFailed;
    }
    base::Status saved = (*store)->AddDrift(
        restore::DriftRecordsOf(standby->name, m.target, info.drift, std::nullopt, NowMs()));
    if (!saved.ok()) return ReportError(saved);
    const sync::VerifyReport v = info.verify.value_or(sync::VerifyReport());
    const uint64_t corrupt = info.drift_counts[static_cast<size_t>(sync::DriftKind::kCorrupt)];
    if (corrupt > 0) exit_code = kExitFailed;
    if (args.json) {
      all.push_back({{"target", m.target},
                     {"full", policy.full},
                     {"verify", restore::VerifyJson(v)},
                     {"corrupt", corrupt},
                     {"drift", restore::DriftJson(info.drift)},
                     {"drift_counts", restore::DriftCountsJson(info.drift_counts)},
                     {"drift_truncated", info.drift_truncated}});
      continue;
    }
    fmt::print("{}: {}\n", standby->name, m.target);
    fmt::print("  read    {}\n", restore::VerifyWords(v, ""));
    fmt::print("  corrupt {}\n",
               corrupt == 0
                   ? std::string("none: every file read back equals its hash from the last restore")
                   : fmt::format("{} file{} read back with other bytes than the last restore wrote "
                                 "(listed below; the next restore repairs them)",
                                 corrupt, corrupt == 1 ? "" : "s"));
    for (const std::string& line :
         restore::DriftLines(true, info.full_baseline, info.drift, info.drift_counts,
                             "the next restore overwrites them")) {
      fmt::print("  {}\n", line);
    }
  }
  if (args.json) fmt::print("{}\n", all.dump(2));
  return exit_code;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, GlobalOptions& global, Action* action) {
  CLI::App* verify = app.add_subcommand(
      "verify",
      "Re-read, on the running standby, the share of each restore target's files that is due "
      "(every file with --full) and compare them with the hashes the last restore left; list "
      "drift since that restore. Changes nothing. Exits 1 when a file reads back with other "
      "bytes (corruption at rest).");
  auto args = std::make_shared<VerifyArgs>();
  verify->add_option("--standby", args->standby, "The standby's name in the config")->required();
  verify->add_flag("--full", args->full,
                   "Re-read every unchanged file now, whatever verify_budget says");
  verify->add_flag("--json", args->json, "Print JSON");
  verify->callback([action, args, &global] {
    *action = [args, &global] { return RunVerifyCommand(global, *args); };
  });
}

}  // namespace sb::cli
