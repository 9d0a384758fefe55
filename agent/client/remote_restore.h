// The controller's side of the restore operations (docs/protocol.md): one
// staged restore of one target on an agent. File uploads and changes are
// pipelined: their replies are read when the in-flight window is full and
// at the end, and the first Error reply fails the restore. One thread.

#ifndef AGENT_CLIENT_REMOTE_RESTORE_H_
#define AGENT_CLIENT_REMOTE_RESTORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/client/agent_client.h"

namespace sb::client {

struct StageHeader {
  std::string path;
  bool delta = false;
  uint64_t size = 0;
  std::string sha256;
  uint32_t mode = 0644;
  int64_t mtime_ns = 0;
  std::optional<uint32_t> uid, gid;
};

struct CommitReply {
  uint64_t changes = 0;
  uint64_t entries = 0;
  std::string digest;
  uint64_t hashed_bytes = 0;
  // Changes that failed after the commit point (the first few named).
  uint64_t unapplied_count = 0;
  std::vector<std::string> unapplied;
};

class RemoteRestore {
 public:
  // Opens the restore of `root` on the agent. `recovered` receives how an
  // interrupted earlier restore of it was recovered ("" when none was).
  // Files of at least `signatures_from` bytes, the least this controller
  // sends as a delta, get their signatures kept for the next restore.
  static base::Result<RemoteRestore> Begin(AgentClient& agent, const std::string& root,
                                           std::string* recovered, uint64_t signatures_from);

  // The librsync signature of the target's current file at `path`.
  base::Result<std::string> Signature(std::string_view path);
  // The signatures of many files, pipelined; by path.
  base::Result<std::map<std::string, std::string>> Signatures(
      const std::vector<std::string>& paths);

  // A file's new content: StartFile, any number of FileData, EndFile.
  base::Status StartFile(const StageHeader& header);
  base::Status FileData(std::string_view bytes);
  base::Status EndFile();

  // One change of the Change message (see docs/protocol.md); sent in batches
  // of at most 1,000 changes and proto::kBatchBytes.
  base::Status AddChange(nlohmann::json change);

  // Commits, after every earlier reply; when one of them is an error, aborts
  // instead and returns it. `*point` says whether the agent passed its commit
  // point: kPassed also for some errors, after which the target holds (part
  // of) the new state.
  enum class CommitPoint { kNotReached, kPassed, kUnknown };
  base::Result<CommitReply> Commit(CommitPoint* point);
  // Tells the agent to drop the staging (best effort: closing the
  // connection does the same).
  void Abort();

 private:
  explicit RemoteRestore(AgentClient& agent) : agent_(&agent) {}
  base::Status Flush();
  // Reads pipelined replies until at most `keep` are outstanding.
  base::Status Reap(int keep);

  AgentClient* agent_;
  nlohmann::json changes_ = nlohmann::json::array();
  size_t changes_bytes_ = 0;  // proto::CborSizeBound of changes_
  uint64_t file_id_ = 0;
};

}  // namespace sb::client

#endif  // AGENT_CLIENT_REMOTE_RESTORE_H_
