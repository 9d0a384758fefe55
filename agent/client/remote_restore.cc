#include "agent/client/remote_restore.h"

#include <deque>

#include <fmt/format.h>

namespace sb::client {
namespace {

constexpr size_t kChangesPerMessage = 1000;
constexpr size_t kChunkBytes = size_t{256} * 1024;
constexpr int kWindow = 32;  // pipelined requests before replies are read

}  // namespace

base::Result<RemoteRestore> RemoteRestore::Begin(AgentClient& agent, const std::string& root,
                                                 std::string* recovered, uint64_t signatures_from) {
  base::Result<nlohmann::json> r = agent.Call(
      proto::type::kRestoreBegin, {{"root", root}, {"signatures_from", signatures_from}});
  if (!r.ok()) return r.status();
  *recovered = r->value("recovered", std::string());
  RemoteRestore remote(agent);
  return remote;
}

base::Status RemoteRestore::Reap(int keep) {
  while (agent_->in_flight() > keep) {
    base::Result<proto::Message> reply = agent_->Receive();
    if (!reply.ok()) return reply.status();
    if (reply->type == proto::type::kError) return proto::StatusFromError(*reply);
  }
  return base::Status::Ok();
}

base::Result<std::string> RemoteRestore::Signature(std::string_view path) {
  base::Result<std::map<std::string, std::string>> one = Signatures({std::string(path)});
  if (!one.ok()) return one.status();
  return std::move(one->begin()->second);
}

base::Result<std::map<std::string, std::string>> RemoteRestore::Signatures(
    const std::vector<std::string>& paths) {
  SB_RETURN_IF_ERROR(Flush());
  SB_RETURN_IF_ERROR(Reap(0));  // from here on, only signature replies come
  std::map<std::string, std::string> out;
  std::deque<std::pair<uint64_t, const std::string*>> asked;
  size_t next = 0;
  while (next < paths.size() || !asked.empty()) {
    while (next < paths.size() && static_cast<int>(asked.size()) < kWindow) {
      base::Result<uint64_t> id = agent_->Send(proto::type::kSignature, {{"path", paths[next]}});
      if (!id.ok()) return id.status();
      asked.emplace_back(*id, &paths[next++]);
    }
    const auto [id, path] = asked.front();
    asked.pop_front();
    std::string& signature = out[*path];
    for (;;) {
      base::Result<proto::Frame> frame = agent_->ReceiveFrame();
      if (!frame.ok()) return frame.status();
      if (frame->kind == proto::FrameKind::kChunk) {
        uint64_t chunk_id = 0;
        std::string_view bytes;
        SB_RETURN_IF_ERROR(proto::ParseChunk(frame->payload, &chunk_id, &bytes));
        if (chunk_id != id) {
          return base::Status::Invalid(
              fmt::format("agent sent a chunk of request #{} during Signature #{}", chunk_id, id));
        }
        signature.append(bytes);
        continue;
      }
      base::Result<proto::Message> reply = proto::DecodeMessage(frame->payload);
      if (!reply.ok()) return reply.status();
      agent_->FinishReply();
      if (reply->type == proto::type::kError) {
        // The rest are still due: read them, so the connection stays in step.
        base::Status failed = proto::StatusFromError(*reply);
        while (!asked.empty()) {
          asked.pop_front();
          for (;;) {
            base::Result<proto::Frame> f = agent_->ReceiveFrame();
            if (!f.ok()) return failed;
            if (f->kind == proto::FrameKind::kMessage) {
              agent_->FinishReply();
              break;
            }
          }
        }
        return failed;
      }
      break;
    }
  }
  return out;
}

base::Status RemoteRestore::StartFile(const StageHeader& h) {
  SB_RETURN_IF_ERROR(Reap(kWindow - 1));
  nlohmann::json body = {{"path", h.path},     {"delta", h.delta}, {"size", h.size},
                         {"sha256", h.sha256}, {"mode", h.mode},   {"mtime_ns", h.mtime_ns}};
  if (h.uid) body["uid"] = *h.uid;
  if (h.gid) body["gid"] = *h.gid;
  base::Result<uint64_t> id = agent_->Send(proto::type::kStageFile, std::move(body));
  if (!id.ok()) return id.status();
  file_id_ = *id;
  return base::Status::Ok();
}

base::Status RemoteRestore::FileData(std::string_view bytes) {
  while (!bytes.empty()) {
    std::string_view piece = bytes.substr(0, kChunkBytes);
    SB_RETURN_IF_ERROR(agent_->SendChunk(file_id_, piece));
    bytes.remove_prefix(piece.size());
  }
  return base::Status::Ok();
}

base::Status RemoteRestore::EndFile() { return agent_->SendChunk(file_id_, {}); }

base::Status RemoteRestore::AddChange(nlohmann::json change) {
  // Batched by size as well as count: one change may carry two 4 KiB paths.
  const size_t bytes = proto::CborSizeBound(change);
  if (!changes_.empty() && changes_bytes_ + bytes > proto::kBatchBytes) {
    SB_RETURN_IF_ERROR(Flush());
  }
  changes_.push_back(std::move(change));
  changes_bytes_ += bytes;
  return changes_.size() >= kChangesPerMessage ? Flush() : base::Status::Ok();
}

base::Status RemoteRestore::Flush() {
  if (changes_.empty()) return base::Status::Ok();
  SB_RETURN_IF_ERROR(Reap(kWindow - 1));
  base::Result<uint64_t> id =
      agent_->Send(proto::type::kChange, {{"changes", std::move(changes_)}});
  changes_ = nlohmann::json::array();
  changes_bytes_ = 0;
  return id.status();
}

base::Result<CommitReply> RemoteRestore::Commit(CommitPoint* point) {
  *point = CommitPoint::kNotReached;
  base::Status pending = Flush();
  if (pending.ok()) pending = Reap(0);
  if (!pending.ok()) {  // a file or change was refused: nothing is committed
    Abort();
    return pending;
  }
  base::Result<uint64_t> id = agent_->Send(proto::type::kRestoreCommit, {});
  if (!id.ok()) return id.status();
  base::Result<proto::Message> r = agent_->Receive();
  if (!r.ok()) {
    // Whether the agent passed its commit point is not known; say so
    // rather than guess.
    *point = CommitPoint::kUnknown;
    return r.status().WithContext("the connection broke during the commit");
  }
  const nlohmann::json& body = r->body;
  if (r->type == proto::type::kError) {
    if (body.value("committed", false)) *point = CommitPoint::kPassed;
    return proto::StatusFromError(*r);
  }
  *point = CommitPoint::kPassed;
  CommitReply out;
  try {
    out.changes = body.at("changes").get<uint64_t>();
    out.entries = body.at("entries").get<uint64_t>();
    out.digest = body.at("digest").get<std::string>();
    out.hashed_bytes = body.at("hashed_bytes").get<uint64_t>();
    out.unapplied_count = body.value("unapplied_count", uint64_t{0});
    out.unapplied = body.value("unapplied", std::vector<std::string>());
  } catch (const nlohmann::json::exception&) {
    return base::Status::Invalid("agent sent a malformed RestoreCommit reply");
  }
  return out;
}

void RemoteRestore::Abort() {
  // Every reply still due first (errors included: one has already failed
  // the restore), so the Abort's reply is the next one.
  while (agent_->in_flight() > 0) {
    if (!agent_->Receive().ok()) return;  // the connection is gone: the agent discards
  }
  (void)agent_->Call(proto::type::kRestoreAbort, {});
}

}  // namespace sb::client
