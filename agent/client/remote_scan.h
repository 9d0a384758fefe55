// Asking an agent for the manifest of a directory under its data roots (the
// Scan operation), collecting its multi-part reply. One thread.

#ifndef AGENT_CLIENT_REMOTE_SCAN_H_
#define AGENT_CLIENT_REMOTE_SCAN_H_

#include <optional>
#include <string>
#include <vector>

#include "agent/client/agent_client.h"
#include "agent/sync/drift.h"
#include "agent/sync/manifest.h"
#include "agent/sync/reverify.h"
#include "agent/sync/target_fs.h"

namespace sb::client {

struct ScanInfo {
  bool cache_used = false;    // the agent had a hash cache from the last restore
  uint64_t hashed_bytes = 0;  // bytes it read (the rest came from the cache)
  // The target's filesystem (sync::TargetFs): free bytes, unless the agent
  // could not tell; the times it stores, unless it could not probe them.
  std::optional<uint64_t> free_bytes;
  std::optional<sync::TimeRange> times;
  // Against the baseline of the last restore (when cache_used): what
  // changed on the standby, every kind counted, paths up to the agent's
  // cap (drift_truncated when more were left out). full_baseline false:
  // the cache predates directories and owners, and only files were
  // compared.
  bool full_baseline = false;
  std::vector<sync::Drift> drift;
  sync::DriftCounts drift_counts{};
  bool drift_truncated = false;
  // A verifying scan's re-read.
  std::optional<sync::VerifyReport> verify;
  // A scan by directory (StartScan's `by_directory`, when the agent can):
  // each directory's digest, in path order, instead of the entries.
  std::optional<std::vector<sync::DirectoryDigest>> directories;
  uint64_t file_bytes = 0;  // then: the sizes of the target's files, added
};

// Every entry is checked as it is decoded; a malformed one fails the scan.
base::Result<std::vector<sync::ManifestEntry>> ScanRemote(AgentClient& agent,
                                                          const std::string& root,
                                                          ScanInfo* info = nullptr);

// The same in two halves, so the caller can work while the agent scans:
// StartScan sends the request (returning its id), FinishScan reads the reply.
// No other request may be sent between them. With `verify`, the agent
// re-reads its share of the unchanged files (sync/reverify.h); only within
// a restore of `root` (or it claims the root).
//
// With `by_directory` (only where ScansByDirectory), the agent answers with
// its directories' digests (ScanInfo::directories) and keeps the entries;
// ReadChildren then fetches those of the directories that differ. No other
// scan may come between.
base::Result<uint64_t> StartScan(AgentClient& agent, const std::string& root,
                                 const sync::VerifyPolicy* verify = nullptr,
                                 bool by_directory = false);
base::Result<std::vector<sync::ManifestEntry>> FinishScan(AgentClient& agent, uint64_t id,
                                                          const std::string& root,
                                                          ScanInfo* info = nullptr);

// Whether the agent can scan by directory (it serves ScanChildren).
bool ScansByDirectory(const AgentClient& agent);

// The entries directly in each of the directories `dirs` (ascending
// indices into ScanInfo::directories) of the scan by directory of `root`
// just finished; the agent then lets its kept scan go.
base::Result<std::vector<sync::ManifestEntry>> ReadChildren(AgentClient& agent,
                                                            const std::string& root,
                                                            const std::vector<size_t>& dirs);

// The re-read alone, without a restore (the Verify operation): drift and
// the re-read into *info.
base::Status VerifyRemote(AgentClient& agent, const std::string& root,
                          const sync::VerifyPolicy& verify, ScanInfo* info);

}  // namespace sb::client

#endif  // AGENT_CLIENT_REMOTE_SCAN_H_
