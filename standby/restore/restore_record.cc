#include "standby/restore/restore_record.h"

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
  s.drift_count = static_cast<int64_t>(r.drift.size());
  s.scan_ms = r.scan_ms;
  s.plan_ms = r.plan_ms;
  s.transfer_ms = r.transfer_ms;
  s.commit_ms = r.commit_ms;
  s.source_digest = r.source_digest;
  s.target_digest = r.target_digest;
  s.at_wall_ms = at_wall_ms;
  return s;
}

}  // namespace sb::restore
