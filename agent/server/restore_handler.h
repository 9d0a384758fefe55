// The restore operations of one connection: RestoreBegin opens a staged
// restore of a target under the agent's data_roots (agent/sync/
// staged_restore.h); Signature, StageFile and Change fill it; RestoreCommit
// or RestoreAbort end it. A connection that closes first discards it. Bulk
// data travels as chunk frames of the request (ChunkIo): the signature from
// the agent, a file or delta to it, ended by an empty chunk.
// One per connection, used by its thread only.

#ifndef AGENT_SERVER_RESTORE_HANDLER_H_
#define AGENT_SERVER_RESTORE_HANDLER_H_

#include <memory>
#include <string_view>

#include "agent/proto/message.h"
#include "agent/server/agent_config.h"
#include "agent/sync/staged_restore.h"

namespace sb::agent {

// Data chunks of the request being handled.
class ChunkIo {
 public:
  virtual ~ChunkIo() = default;
  // The next chunk the controller sent for request `id`: empty at its end.
  // The view is valid until the next call.
  virtual base::Result<std::string_view> ReadChunk(uint64_t id) = 0;
  virtual base::Status WriteChunk(uint64_t id, std::string_view bytes) = 0;
};

class RestoreHandler {
 public:
  explicit RestoreHandler(const AgentConfig& config) : config_(config) {}

  static bool Handles(std::string_view type);
  // Handles a request of a type Handles() accepts. Its Error replies keep
  // the connection usable: incoming chunks are always read to their end.
  proto::Message Handle(const proto::Message& request, ChunkIo& io);

  // The hash cache of the restore open on this connection when `scan`
  // (a Scan request) is of its root: already loaded, not read again.
  // A verifying scan records its re-reads in it.
  sync::HashCache* CacheFor(const proto::Message& scan);

 private:
  proto::Message Begin(const proto::Message& request);
  proto::Message Signature(const proto::Message& request, ChunkIo& io);
  proto::Message StageFile(const proto::Message& request, ChunkIo& io);
  proto::Message Change(const proto::Message& request);
  proto::Message Commit(const proto::Message& request);

  const AgentConfig& config_;
  std::unique_ptr<sync::StagedRestore> restore_;
};

}  // namespace sb::agent

#endif  // AGENT_SERVER_RESTORE_HANDLER_H_
