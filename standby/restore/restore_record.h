// What a configured restore mapping becomes: the RestoreSpec to run, and
// the statistics row the state store keeps of its report. Shared by
// `standbyctl restore` and the drill's restore phase. Pure functions.
#ifndef STANDBY_RESTORE_RESTORE_RECORD_H_
#define STANDBY_RESTORE_RESTORE_RECORD_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "standby/config/config.h"
#include "standby/restore/restore_run.h"
#include "standby/store/state_store.h"

namespace sb::restore {

RestoreSpec SpecFor(const config::Config& config, const config::RestoreMapping& mapping);

store::RestoreStatsRecord StatsOf(const std::string& standby, const RestoreReport& report,
                                  std::optional<int64_t> drill_id, int64_t at_wall_ms);

std::vector<store::DriftRecord> DriftRecordsOf(const std::string& standby,
                                               const std::string& target,
                                               const std::vector<sync::Drift>& drift,
                                               std::optional<int64_t> drill_id, int64_t at_wall_ms);

// How many restores back the oldest read of any of the target's files
// lies, counting this one as 1; nullopt when some file was never read back
// (or nothing was re-read).
std::optional<int64_t> OldestReadPasses(const sync::VerifyReport& verify);

// The restore's verification in words: what was re-read this time, what
// was trusted from the cache, and how recently every byte was read.
// Never says "verified" of bytes that were not read.
std::string VerifyWords(const RestoreReport& report);
std::string VerifyWords(const sync::VerifyReport& verify, const std::string& off_reason);

// "2 modified, 1 planted" (kinds with none left out), or "none".
std::string DriftCountWords(const sync::DriftCounts& counts);

// The drift for a terminal: a line with the counts per kind, then the
// first `shown` paths with what changed, then how many more. `fate` says
// what becomes of them ("overwritten now").
std::vector<std::string> DriftLines(const RestoreReport& report, std::string_view fate,
                                    size_t shown = 10);
// The same from a scan's findings (`checked`: the agent had a baseline).
std::vector<std::string> DriftLines(bool checked, bool full_baseline,
                                    const std::vector<sync::Drift>& drift,
                                    const sync::DriftCounts& counts, std::string_view fate,
                                    size_t shown = 10);

// The JSON the commands print: [{kind, path, detail}], {kind: count} with
// every kind, and the re-read's figures.
nlohmann::json DriftJson(const std::vector<sync::Drift>& drift);
nlohmann::json DriftCountsJson(const sync::DriftCounts& counts);
nlohmann::json VerifyJson(const sync::VerifyReport& verify);

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_RESTORE_RECORD_H_
