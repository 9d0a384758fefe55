// The agent's operations of protocol version 1, each a function from a
// request message to a reply. They run on the connection's thread; what they
// touch on the host goes through the seams in HostSeams. Thread-safe: the
// same Operations serve every connection.

#ifndef AGENT_SERVER_OPERATIONS_H_
#define AGENT_SERVER_OPERATIONS_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/proto/message.h"
#include "agent/server/agent_config.h"
#include "agent/server/lease.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/manifest.h"

namespace sb::agent {

struct HostSeams {
  std::string proc_root = "/proc";
  std::string etc_root = "/etc";
  std::string run_root = "/run";  // logind's sessions
};

// A scan kept on its connection after a Scan that sent directories'
// digests, for the ScanChildren requests that follow: its entries, grouped
// by directory as the digests listed them.
struct KeptScan {
  std::string root;
  std::vector<sync::ManifestEntry> entries;
  sync::DirectoryGroups groups;
};

class Operations {
 public:
  Operations(const AgentConfig& config, HostSeams seams);
  ~Operations();
  Operations(const Operations&) = delete;
  Operations& operator=(const Operations&) = delete;

  // The request types this agent serves, as Hello reports them.
  std::vector<std::string> Capabilities() const;
  // True for the types that change the host; the primary role refuses them.
  static bool Writes(std::string_view type);

  proto::Message Hello(const proto::Message& request) const;
  proto::Message Ping(const proto::Message& request) const;
  proto::Message HostInfo(const proto::Message& request) const;
  proto::Message Indicators(const proto::Message& request) const;
  proto::Message RunCommand(const proto::Message& request) const;
  proto::Message Shutdown(const proto::Message& request) const;
  // Takes, renews ({holder, ttl_ms}) or gives up ({holder, release: true})
  // the lease; when it runs out the agent runs its shutdown command.
  proto::Message Lease(const proto::Message& request) const;
  // A manifest of `root` (a data root or below): replies go in parts of at
  // most kScanEntriesPerPart items and proto::kBatchBytes, all but the
  // last into `parts`; the last also says what the target's filesystem can
  // hold (sync::TargetFs). Uses `open_cache` when given (the hash cache of
  // the restore of `root` open on this connection), else loads the root's.
  // The parts carry the drift against that baseline (sync/drift.h) after
  // the entries. With {"verify": {every, budget, full}} the scan re-reads
  // its share of the unchanged files (sync/reverify.h), records the passes
  // in the cache and reports them; outside a restore it claims the root
  // for that. A Verify request is the same without the entries, and needs
  // a cache to verify against.
  //
  // With {"records": true} the entries go as a record stream
  // (sync::RecordWriter); with {"directories": true} as well, and `keep`
  // given, each directory's digest (sync::DirectoryDigest) goes instead of
  // the entries, which are kept in *keep for ScanChildren.
  proto::Message Scan(const proto::Message& request, std::vector<proto::Message>* parts,
                      sync::HashCache* open_cache = nullptr,
                      std::optional<KeptScan>* keep = nullptr) const;
  // The entries directly in each of {"dirs"} (sync::EncodeIndices of
  // ascending indices into the list of digests the Scan sent) of the scan
  // kept in *kept, which must be of {"root"}: records, in parts as Scan's.
  // {"done": true} lets the kept scan go after this reply.
  proto::Message ScanChildren(const proto::Message& request, std::vector<proto::Message>* parts,
                              std::optional<KeptScan>* kept) const;

  static constexpr size_t kScanEntriesPerPart = 2000;
  // Drift paths sent at most (the counts are always whole).
  static constexpr size_t kMaxDriftReported = 100'000;

  // What a smoke check reads of one path under a data root ({path},
  // optionally {content_max} up to kMaxStatContent): {exists}, and when it
  // does {type: file|dir|symlink|other, size, mtime_ns}, a file's {sha256}
  // and, when no larger than content_max, its {content}; a symlink's
  // {target}. Nothing on the way is followed (sync/beneath.h); a path
  // outside data_roots is refused.
  proto::Message StatFile(const proto::Message& request) const;

  static constexpr size_t kMaxStatContent = 4096;

  const AgentConfig& config() const { return config_; }

 private:
  void AddTargetFs(const std::string& root, nlohmann::json* body) const;

  AgentConfig config_;
  HostSeams seams_;
  std::unique_ptr<LeaseWatchdog> lease_;  // standby role only
  // Sessions greeted since the agent started: an indicator (a login storm
  // through the agent shows as a rate).
  mutable std::atomic<uint64_t> sessions_greeted_{0};
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_OPERATIONS_H_
