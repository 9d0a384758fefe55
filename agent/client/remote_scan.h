// Asking an agent for the manifest of a directory under its data roots (the
// Scan operation), collecting its multi-part reply. One thread.

#ifndef AGENT_CLIENT_REMOTE_SCAN_H_
#define AGENT_CLIENT_REMOTE_SCAN_H_

#include <string>
#include <vector>

#include "agent/client/agent_client.h"
#include "agent/sync/manifest.h"

namespace sb::client {

// Every entry is checked as it is decoded; a malformed one fails the scan.
base::Result<std::vector<sync::ManifestEntry>> ScanRemote(AgentClient& agent,
                                                          const std::string& root);

}  // namespace sb::client

#endif  // AGENT_CLIENT_REMOTE_SCAN_H_
