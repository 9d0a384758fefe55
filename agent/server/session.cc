#include "agent/server/session.h"

#include <fmt/format.h>

#include "agent/base/quote.h"

namespace sb::agent {
namespace {

class NoChunks : public ChunkIo {
 public:
  base::Result<std::string_view> ReadChunk(uint64_t) override {
    return base::Status::FailedPrecondition("this connection carries no data chunks");
  }
  base::Status WriteChunk(uint64_t, std::string_view) override {
    return base::Status::FailedPrecondition("this connection carries no data chunks");
  }
};

}  // namespace

SessionReply Session::Refuse(const proto::Message& request, const base::Status& status,
                             bool close) {
  SessionReply out;
  out.refusal = status.message();
  out.reply = proto::ErrorReply(request.id, status);
  out.close = close;
  return out;
}

SessionReply Session::Answer(proto::Message reply) {
  SessionReply out;
  // An operation's own Error reply is a refusal too, and is logged as one.
  if (reply.type == proto::type::kError) out.refusal = proto::StatusFromError(reply).message();
  out.reply = std::move(reply);
  return out;
}

SessionReply Session::Handle(const proto::Message& request, ChunkIo* io) {
  namespace type = proto::type;
  if (!greeted_) {
    if (request.type != type::kHello) {
      return Refuse(request,
                    base::Status::FailedPrecondition(fmt::format(
                        "expected Hello as the first message, got {}", base::Quote(request.type))),
                    true);
    }
    auto min = proto::BodyField<int>(request, "protocol_min");
    auto max = proto::BodyField<int>(request, "protocol_max");
    if (!min.ok() || !max.ok()) {
      return Refuse(request, !min.ok() ? min.status() : max.status(), true);
    }
    if (*min > proto::kProtocolVersion || *max < proto::kProtocolVersion) {
      return Refuse(request,
                    base::Status::FailedPrecondition(fmt::format(
                        "no common protocol version: the controller speaks {} to {}, this agent "
                        "speaks {}",
                        *min, *max, proto::kProtocolVersion)),
                    true);
    }
    greeted_ = true;
    return Answer(ops_.Hello(request));
  }
  if (ops_.config().role == Role::kPrimary && Operations::Writes(request.type)) {
    return Refuse(request,
                  base::Status::PermissionDenied(fmt::format(
                      "{} refused: this agent has the primary role, which never writes or "
                      "shuts down",
                      request.type)),
                  false);
  }
  if (request.type == type::kPing) return Answer(ops_.Ping(request));
  if (request.type == type::kHostInfo) return Answer(ops_.HostInfo(request));
  if (request.type == type::kIndicators) return Answer(ops_.Indicators(request));
  if (request.type == type::kRunCommand) return Answer(ops_.RunCommand(request));
  if (request.type == type::kStatFile) return Answer(ops_.StatFile(request));
  if (request.type == type::kShutdown) return Answer(ops_.Shutdown(request));
  if (request.type == type::kLease) return Answer(ops_.Lease(request));
  if (request.type == type::kScan || request.type == type::kVerify) {
    std::vector<proto::Message> parts;
    kept_scan_.reset();  // a new scan replaces a kept one
    SessionReply out = Answer(ops_.Scan(request, &parts, restore_.CacheFor(request), &kept_scan_));
    out.parts = std::move(parts);
    return out;
  }
  if (request.type == type::kScanChildren) {
    std::vector<proto::Message> parts;
    SessionReply out = Answer(ops_.ScanChildren(request, &parts, &kept_scan_));
    out.parts = std::move(parts);
    return out;
  }
  if (RestoreHandler::Handles(request.type) && ops_.config().role == Role::kStandby) {
    NoChunks none;
    return Answer(restore_.Handle(request, io != nullptr ? *io : none));
  }
  if (request.type == type::kHello) {
    return Refuse(request, base::Status::FailedPrecondition("Hello sent twice"), true);
  }
  return Refuse(
      request,
      base::Status::Invalid(fmt::format("unknown message type {}", base::Quote(request.type))),
      true);
}

}  // namespace sb::agent
