#include "agent/server/restore_handler.h"

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/quote.h"
#include "agent/sync/path.h"

namespace sb::agent {
namespace {

using base::Status;
using nlohmann::json;

constexpr size_t kMaxChangesPerMessage = 4096;
// Failed changes named in a RestoreCommit reply (all are logged).
constexpr size_t kMaxUnappliedReported = 20;

proto::Message Reply(const proto::Message& request, json body) {
  proto::Message reply;
  reply.id = request.id;
  reply.type = request.type;
  reply.body = std::move(body);
  return reply;
}

// Reads the request's chunks as a byte stream; remembers its end.
class ChunkSource {
 public:
  ChunkSource(ChunkIo& io, uint64_t id) : io_(io), id_(id) {}

  base::Result<size_t> Read(char* buffer, size_t size) {
    while (pending_.empty() && !ended_) {
      base::Result<std::string_view> chunk = io_.ReadChunk(id_);
      if (!chunk.ok()) return chunk.status();
      if (chunk->empty()) ended_ = true;
      pending_ = *chunk;
    }
    const size_t n = std::min(size, pending_.size());
    std::memcpy(buffer, pending_.data(), n);
    pending_.remove_prefix(n);
    return n;
  }

  // Reads and drops what is left, so the next frame is the next request's.
  Status Drain() {
    char buf[64 * 1024];
    for (;;) {
      base::Result<size_t> n = Read(buf, sizeof buf);
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Ok();
    }
  }

 private:
  ChunkIo& io_;
  uint64_t id_;
  std::string_view pending_;
  bool ended_ = false;
};

base::Result<sync::FileMeta> MetaOf(const json& body) {
  sync::FileMeta meta;
  try {
    meta.mode = body.at("mode").get<uint32_t>() & 07777;
    meta.mtime_ns = body.at("mtime_ns").get<int64_t>();
    if (body.contains("uid")) meta.uid = body.at("uid").get<uint32_t>();
    if (body.contains("gid")) meta.gid = body.at("gid").get<uint32_t>();
  } catch (const json::exception&) {
    return Status::Invalid("missing or malformed mode, mtime_ns, uid or gid");
  }
  return meta;
}

base::Result<sync::NodeType> TypeOf(const json& body) {
  auto it = body.find("type");
  if (it == body.end() || !it->is_string()) return Status::Invalid("missing type");
  const std::string& t = it->get_ref<const std::string&>();
  if (t == "f") return sync::NodeType::kFile;
  if (t == "d") return sync::NodeType::kDirectory;
  if (t == "l") return sync::NodeType::kSymlink;
  return Status::Invalid(fmt::format("unknown type {}", base::Quote(t)));
}

}  // namespace

bool RestoreHandler::Handles(std::string_view type) {
  namespace t = proto::type;
  return type == t::kRestoreBegin || type == t::kSignature || type == t::kStageFile ||
         type == t::kChange || type == t::kRestoreCommit || type == t::kRestoreAbort;
}

proto::Message RestoreHandler::Handle(const proto::Message& request, ChunkIo& io) {
  namespace t = proto::type;
  if (request.type == t::kRestoreBegin) return Begin(request);
  if (request.type == t::kStageFile) return StageFile(request, io);
  if (restore_ == nullptr) {
    return proto::ErrorReply(request.id, Status::FailedPrecondition(fmt::format(
                                             "{} without a RestoreBegin", request.type)));
  }
  if (request.type == t::kSignature) return Signature(request, io);
  if (request.type == t::kChange) return Change(request);
  if (request.type == t::kRestoreCommit) return Commit(request);
  spdlog::info("restore of {} aborted by the controller", restore_->root());
  restore_.reset();  // t::kRestoreAbort
  return Reply(request, json::object());
}

sync::HashCache* RestoreHandler::CacheFor(const proto::Message& scan) {
  auto root = scan.body.find("root");
  if (restore_ == nullptr || root == scan.body.end() || !root->is_string() ||
      root->get_ref<const std::string&>() != restore_->root()) {
    return nullptr;
  }
  return &restore_->mutable_cache();
}

proto::Message RestoreHandler::Begin(const proto::Message& request) {
  base::Result<std::string> root = proto::BodyField<std::string>(request, "root");
  if (!root.ok()) return proto::ErrorReply(request.id, root.status());
  Status allowed = sync::CheckUnderRoots(*root, config_.data_roots);
  if (!allowed.ok()) return proto::ErrorReply(request.id, allowed);
  if (restore_ != nullptr) {
    return proto::ErrorReply(
        request.id, Status::FailedPrecondition(fmt::format(
                        "a restore of {} is already open on this connection", restore_->root())));
  }
  // Optional: a controller before it sent none.
  uint64_t signatures_from = sync::StagedRestore::kDefaultSignaturesFrom;
  if (auto from = request.body.find("signatures_from"); from != request.body.end()) {
    if (!from->is_number_unsigned()) {
      return proto::ErrorReply(request.id,
                               Status::Invalid(fmt::format("{}: field \"signatures_from\" is not a "
                                                           "number of bytes",
                                                           request.type)));
    }
    signatures_from = from->get<uint64_t>();
  }
  std::string recovered;
  base::Result<std::unique_ptr<sync::StagedRestore>> r =
      sync::StagedRestore::Begin(*root, config_.state_dir, &recovered);
  if (!r.ok()) return proto::ErrorReply(request.id, r.status());
  restore_ = std::move(*r);
  restore_->set_signatures_from(signatures_from);
  if (!recovered.empty()) spdlog::warn("interrupted restore of {} {}", *root, recovered);
  spdlog::info("restore of {} begins", *root);
  return Reply(request, {{"recovered", recovered}});
}

proto::Message RestoreHandler::Signature(const proto::Message& request, ChunkIo& io) {
  base::Result<std::string> path = proto::BodyField<std::string>(request, "path");
  if (!path.ok()) return proto::ErrorReply(request.id, path.status());
  uint64_t bytes = 0;
  Status s = restore_->Signature(*path, [&](std::string_view piece) {
    bytes += piece.size();
    return io.WriteChunk(request.id, piece);
  });
  if (!s.ok()) return proto::ErrorReply(request.id, s);
  return Reply(request, {{"bytes", bytes}});
}

proto::Message RestoreHandler::StageFile(const proto::Message& request, ChunkIo& io) {
  ChunkSource data(io, request.id);
  auto fail = [&](Status why) {
    Status drained = data.Drain();
    if (!drained.ok()) why = why.WithContext(drained.message());
    return proto::ErrorReply(request.id, why);
  };
  if (restore_ == nullptr) {
    return fail(Status::FailedPrecondition("StageFile without a RestoreBegin"));
  }
  base::Result<std::string> path = proto::BodyField<std::string>(request, "path");
  base::Result<bool> delta = proto::BodyField<bool>(request, "delta");
  base::Result<uint64_t> size = proto::BodyField<uint64_t>(request, "size");
  base::Result<std::string> sha = proto::BodyField<std::string>(request, "sha256");
  base::Result<sync::FileMeta> meta = MetaOf(request.body);
  for (const Status& s : {path.status(), delta.status(), size.status(), sha.status(),
                          meta.status().WithContext("StageFile")}) {
    if (!s.ok()) return fail(s);
  }
  Status s = restore_->StageFile(
      *path, *delta, [&](char* buf, size_t n) { return data.Read(buf, n); }, *size, *sha, *meta);
  if (!s.ok()) return fail(s);
  // A delta's end is known to librsync; its last chunk must still be read.
  Status drained = data.Drain();
  if (!drained.ok()) return proto::ErrorReply(request.id, drained);
  return Reply(request, json::object());
}

proto::Message RestoreHandler::Change(const proto::Message& request) {
  auto list = request.body.find("changes");
  if (list == request.body.end() || !list->is_array() || list->size() > kMaxChangesPerMessage) {
    return proto::ErrorReply(
        request.id, Status::Invalid(fmt::format("Change: \"changes\" must be a list of at most {}",
                                                kMaxChangesPerMessage)));
  }
  for (const json& c : *list) {
    if (!c.is_object() || !c.contains("op") || !c["op"].is_string() || !c.contains("path") ||
        !c["path"].is_string()) {
      return proto::ErrorReply(request.id, Status::Invalid("Change: malformed change"));
    }
    const std::string& op = c["op"].get_ref<const std::string&>();
    const std::string& path = c["path"].get_ref<const std::string&>();
    Status s;
    if (op == "delete") {
      base::Result<sync::NodeType> type = TypeOf(c);
      s = type.ok() ? restore_->AddDelete(path, *type) : type.status();
    } else if (op == "link") {
      auto to = c.find("to");
      s = to != c.end() && to->is_string() ? restore_->AddHardlink(path, to->get<std::string>())
                                           : Status::Invalid("missing \"to\"");
    } else {
      base::Result<sync::FileMeta> meta = MetaOf(c);
      if (!meta.ok()) {
        s = meta.status();
      } else if (op == "dir") {
        s = restore_->AddDirectory(path, *meta);
      } else if (op == "meta") {
        s = restore_->AddMetadata(path, *meta);
      } else if (op == "symlink") {
        auto target = c.find("target");
        s = target != c.end() && target->is_string()
                ? restore_->StageSymlink(path, target->get<std::string>(), *meta)
                : Status::Invalid("missing \"target\"");
      } else {
        s = Status::Invalid(fmt::format("unknown change {}", base::Quote(op)));
      }
    }
    if (!s.ok()) return proto::ErrorReply(request.id, s.WithContext(fmt::format("Change {}", op)));
  }
  return Reply(request, {{"count", list->size()}});
}

proto::Message RestoreHandler::Commit(const proto::Message& request) {
  std::unique_ptr<sync::StagedRestore> restore = std::move(restore_);
  base::Result<sync::CommitResult> r = restore->Commit();
  if (!r.ok()) {
    spdlog::error("restore of {} failed to commit{}: {}", restore->root(),
                  restore->committed() ? " after its commit point" : "", r.status().message());
    proto::Message error = proto::ErrorReply(request.id, r.status());
    // The controller must not say the target kept its old state.
    if (restore->committed()) error.body["committed"] = true;
    return error;
  }
  spdlog::info("restore of {} committed: {} changes, {} entries, digest {}", restore->root(),
               r->changes, r->entries, r->digest);
  nlohmann::json unapplied = nlohmann::json::array();
  for (const std::string& m : r->unapplied) {
    if (unapplied.size() == kMaxUnappliedReported) break;
    spdlog::error("restore of {}: change not applied: {}", restore->root(), m);
    unapplied.push_back(m);
  }
  return Reply(request, {{"changes", r->changes},
                         {"entries", r->entries},
                         {"digest", r->digest},
                         {"hashed_bytes", r->hashed_bytes},
                         {"unapplied", std::move(unapplied)},
                         {"unapplied_count", r->unapplied.size()}});
}

}  // namespace sb::agent
