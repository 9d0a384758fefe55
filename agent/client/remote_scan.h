// Asking an agent for the manifest of a directory under its data roots (the
// Scan operation), collecting its multi-part reply. One thread.

#ifndef AGENT_CLIENT_REMOTE_SCAN_H_
#define AGENT_CLIENT_REMOTE_SCAN_H_

#include <optional>
#include <string>
#include <vector>

#include "agent/client/agent_client.h"
#include "agent/sync/manifest.h"
#include "agent/sync/target_fs.h"

namespace sb::client {

struct ScanInfo {
  bool cache_used = false;    // the agent had a hash cache from the last restore
  uint64_t hashed_bytes = 0;  // bytes it read (the rest came from the cache)
  // The target's filesystem (sync::TargetFs): free bytes, unless the agent
  // could not tell; the times it stores, unless it could not probe them.
  std::optional<uint64_t> free_bytes;
  std::optional<sync::TimeRange> times;
};

// Every entry is checked as it is decoded; a malformed one fails the scan.
base::Result<std::vector<sync::ManifestEntry>> ScanRemote(AgentClient& agent,
                                                          const std::string& root,
                                                          ScanInfo* info = nullptr);

// The same in two halves, so the caller can work while the agent scans:
// StartScan sends the request (returning its id), FinishScan reads the reply.
// No other request may be sent between them.
base::Result<uint64_t> StartScan(AgentClient& agent, const std::string& root);
base::Result<std::vector<sync::ManifestEntry>> FinishScan(AgentClient& agent, uint64_t id,
                                                          const std::string& root,
                                                          ScanInfo* info = nullptr);

}  // namespace sb::client

#endif  // AGENT_CLIENT_REMOTE_SCAN_H_
