#include "standby/restore/restore_record.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/base/units.h"
#include "agent/sync/hash_cache.h"

namespace sb::restore {

RestoreSpec SpecFor(const config::Config& config, const config::RestoreMapping& mapping) {
  RestoreSpec spec;
  spec.source = mapping.source;
  spec.target = mapping.target;
  spec.keep_free = mapping.keep_free;
  spec.max_delete = mapping.max_delete;
  spec.source_cache = sync::HashCache::PathFor(config.controller.state_dir, mapping.source);
  spec.owners.set_owners = mapping.set_owners;
  spec.owners.uid_map = mapping.uid_map;
  spec.owners.gid_map = mapping.gid_map;
  if (mapping.verify_every > 0) {
    sync::VerifyPolicy verify;
    verify.every = mapping.verify_every;
    verify.budget = mapping.verify_budget;
    spec.verify = verify;
  }
  return spec;
}

store::RestoreStatsRecord StatsOf(const std::string& standby, const RestoreReport& r,
                                  std::optional<int64_t> drill_id, int64_t at_wall_ms) {
  auto count = [&](Action a) { return static_cast<int64_t>(r.plan.Totals(a).count); };
  store::RestoreStatsRecord s;
  s.drill_id = drill_id;
  s.standby = standby;
  s.source = r.source.path;
  s.target = r.spec.target;
  s.files_scanned = static_cast<int64_t>(r.source_entries);
  s.files_unchanged = count(Action::kUnchanged);
  s.files_changed = count(Action::kMetadata) + count(Action::kDelta) + count(Action::kWhole);
  s.files_new = count(Action::kNew) + count(Action::kDirectory) + count(Action::kSymlink) +
                count(Action::kHardlink);
  s.files_deleted = count(Action::kDelete);
  s.bytes_literal = static_cast<int64_t>(r.literal_bytes);
  s.bytes_matched = static_cast<int64_t>(r.matched_bytes);
  s.bytes_wire = static_cast<int64_t>(r.wire_bytes);
  s.drift_count = static_cast<int64_t>(r.DriftTotal());
  s.corrupt_count = static_cast<int64_t>(r.Corrupt());
  if (r.verify) {
    s.bytes_reread = static_cast<int64_t>(r.verify->reread_bytes);
    s.bytes_from_cache = static_cast<int64_t>(r.verify->cached_bytes);
    s.oldest_reread_passes = OldestReadPasses(*r.verify);
  }
  s.scan_ms = r.scan_ms;
  s.plan_ms = r.plan_ms;
  s.transfer_ms = r.transfer_ms;
  s.commit_ms = r.commit_ms;
  s.source_digest = r.source_digest;
  s.target_digest = r.target_digest;
  s.at_wall_ms = at_wall_ms;
  return s;
}

std::vector<store::DriftRecord> DriftRecordsOf(const std::string& standby,
                                               const std::string& target,
                                               const std::vector<sync::Drift>& drift,
                                               std::optional<int64_t> drill_id,
                                               int64_t at_wall_ms) {
  std::vector<store::DriftRecord> out;
  out.reserve(drift.size());
  for (const sync::Drift& d : drift) {
    out.push_back({drill_id, standby, target, std::string(sync::DriftKindName(d.kind)), d.path,
                   d.detail, at_wall_ms});
  }
  return out;
}

std::optional<int64_t> OldestReadPasses(const sync::VerifyReport& v) {
  if (v.never_files > 0 || v.pass == 0) return std::nullopt;
  return static_cast<int64_t>(v.pass - v.oldest_pass + 1);
}

std::string VerifyWords(const sync::VerifyReport& v, const std::string& off_reason) {
  if (!off_reason.empty()) return off_reason;
  std::string words =
      fmt::format("{} re-read from the standby's disk ({} file{}), {} taken from the hash cache",
                  base::FormatSize(v.reread_bytes), v.reread_files, v.reread_files == 1 ? "" : "s",
                  base::FormatSize(v.cached_bytes));
  if (std::optional<int64_t> passes = OldestReadPasses(v)) {
    words += fmt::format("; every file re-read or rewritten within the last {} restore{}", *passes,
                         *passes == 1 ? "" : "s");
  } else {
    words +=
        fmt::format("; {} file{} ({}) not yet read back intact since re-reads began", v.never_files,
                    v.never_files == 1 ? "" : "s", base::FormatSize(v.never_bytes));
  }
  if (v.stretched) {
    words += fmt::format(
        "; verify_budget reached: {} was due this restore, so the rotation "
        "stretches",
        base::FormatSize(v.due_bytes));
  }
  if (v.too_large_files > 0) {
    words += fmt::format(
        "; {} file{} larger than verify_budget ({}{}) never read back by a restore: "
        "standbyctl verify --full reads {}",
        v.too_large_files, v.too_large_files == 1 ? " is" : "s are", v.over_budget,
        v.too_large_files == 1 ? "" : ", ...", v.too_large_files == 1 ? "it" : "them");
  }
  return words;
}

std::string VerifyWords(const RestoreReport& r) {
  if (!r.spec.verify) return VerifyWords({}, "nothing re-read: verify_every = 0");
  if (r.spec.dry_run) return VerifyWords({}, "nothing re-read: a dry run only compares");
  if (!r.verify) {
    return VerifyWords({}, "nothing re-read: the agent has no record of a previous restore");
  }
  return VerifyWords(*r.verify, "");
}

std::string DriftCountWords(const sync::DriftCounts& counts) {
  std::vector<std::string> parts;
  for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
    if (counts[k] == 0) continue;
    parts.push_back(
        fmt::format("{} {}", counts[k], sync::DriftKindName(static_cast<sync::DriftKind>(k))));
  }
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<std::string> DriftLines(const RestoreReport& r, std::string_view fate, size_t shown) {
  return DriftLines(r.hash_cache_used, r.full_baseline, r.drift, r.drift_counts, fate, shown);
}

std::vector<std::string> DriftLines(bool checked, bool full_baseline,
                                    const std::vector<sync::Drift>& drift,
                                    const sync::DriftCounts& counts, std::string_view fate,
                                    size_t shown) {
  std::vector<std::string> lines;
  if (!checked) {
    lines.push_back("drift   not checked: the agent has no record of a previous restore");
    return lines;
  }
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0) {
    lines.push_back(
        fmt::format("drift   none: the target is as the last restore left it{}",
                    full_baseline ? "" : " (files only: the agent's record predates directories)"));
    return lines;
  }
  lines.push_back(
      fmt::format("drift   {} entr{} changed on the standby since the last restore "
                  "({}): {}",
                  total, total == 1 ? "y" : "ies", fate, DriftCountWords(counts)));
  const size_t n = std::min(drift.size(), shown);
  for (size_t i = 0; i < n; ++i) {
    const sync::Drift& d = drift[i];
    lines.push_back(
        fmt::format("          {:<8}  {}  ({})", sync::DriftKindName(d.kind), d.path, d.detail));
  }
  if (total > n) {
    lines.push_back(fmt::format(
        "          ... and {} more (every path: --json, or the state store's drift table)",
        total - n));
  }
  return lines;
}

nlohmann::json DriftJson(const std::vector<sync::Drift>& drift) {
  nlohmann::json out = nlohmann::json::array();
  for (const sync::Drift& d : drift) {
    out.push_back({{"kind", sync::DriftKindName(d.kind)}, {"path", d.path}, {"detail", d.detail}});
  }
  return out;
}

nlohmann::json DriftCountsJson(const sync::DriftCounts& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
    out[std::string(sync::DriftKindName(static_cast<sync::DriftKind>(k)))] = counts[k];
  }
  return out;
}

nlohmann::json VerifyJson(const sync::VerifyReport& v) {
  std::optional<int64_t> passes = OldestReadPasses(v);
  return {{"pass", v.pass},
          {"reread_files", v.reread_files},
          {"reread_bytes", v.reread_bytes},
          {"cached_files", v.cached_files},
          {"cached_bytes", v.cached_bytes},
          {"due_bytes", v.due_bytes},
          {"stretched", v.stretched},
          {"over_budget", v.over_budget.empty() ? nlohmann::json() : nlohmann::json(v.over_budget)},
          {"too_large_files", v.too_large_files},
          {"never_reread_files", v.never_files},
          {"never_reread_bytes", v.never_bytes},
          {"every_file_read_within", passes ? nlohmann::json(*passes) : nlohmann::json()},
          {"last_rotation", v.rotation.done_end == 0
                                ? nlohmann::json()
                                : nlohmann::json({{"first_pass", v.rotation.done_start},
                                                  {"last_pass", v.rotation.done_end},
                                                  {"ended_wall_ms", v.rotation.done_end_ms}})}};
}

}  // namespace sb::restore
