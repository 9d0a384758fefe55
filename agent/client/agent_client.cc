#include "agent/client/agent_client.h"

#include <fmt/format.h>

namespace sb::client {

base::Result<std::unique_ptr<AgentClient>> AgentClient::Connect(const AgentTarget& target,
                                                                const net::TlsContext& tls,
                                                                const ClientOptions& options) {
  base::Result<std::unique_ptr<net::TlsStream>> stream = net::TlsStream::Connect(
      target.endpoint, tls, target.name, net::After(options.connect_timeout));
  if (!stream.ok()) return stream.status();
  const std::optional<int64_t> not_after = net::PeerCertificateNotAfterMs((*stream)->ssl());
  std::unique_ptr<AgentClient> client(
      new AgentClient(std::make_unique<net::Channel>(std::move(*stream)), options));
  client->name_ = fmt::format("agent {} at {}", target.name, target.endpoint.ToString());
  base::Result<nlohmann::json> hello =
      client->Call(proto::type::kHello, {{"protocol_min", proto::kProtocolVersion},
                                         {"protocol_max", proto::kProtocolVersion},
                                         {"client", std::string("standbyctl ") + STANDBY_VERSION}});
  if (!hello.ok()) return hello.status();
  try {
    AgentHello& h = client->hello_;
    h.protocol = hello->at("protocol").get<int>();
    h.agent_version = hello->at("agent_version").get<std::string>();
    h.role = hello->at("role").get<std::string>();
    h.host_id = hello->at("host_id").get<std::string>();
    h.boot_id = hello->at("boot_id").get<std::string>();
    h.capabilities = hello->at("capabilities").get<std::vector<std::string>>();
    h.cert_not_after_ms = not_after;
  } catch (const nlohmann::json::exception& e) {
    return base::Status::Invalid(
        fmt::format("agent {} sent a malformed Hello reply: {}", target.name, e.what()));
  }
  return client;
}

base::Result<uint64_t> AgentClient::Send(std::string_view type, nlohmann::json body) {
  if (in_flight_ >= options_.max_in_flight) {
    return base::Status::FailedPrecondition(
        fmt::format("{} requests already in flight; receive replies first", in_flight_));
  }
  proto::Message m;
  m.id = next_id_++;
  m.type = std::string(type);
  m.body = body.is_null() ? nlohmann::json::object() : std::move(body);
  m.deadline_ms = static_cast<uint32_t>(options_.request_timeout.count());
  base::Status written = channel_->WriteMessage(m, net::After(options_.request_timeout));
  if (!written.ok()) return written.WithContext(name_);
  ++in_flight_;
  return m.id;
}

base::Result<proto::Message> AgentClient::Receive() {
  base::Result<proto::Message> reply = channel_->ReadMessage(net::After(options_.request_timeout));
  if (!reply.ok()) return reply.status().WithContext(name_);
  --in_flight_;
  return reply;
}

base::Result<proto::Message> AgentClient::ReceivePart() {
  base::Result<proto::Message> part = channel_->ReadMessage(net::After(options_.request_timeout));
  if (!part.ok()) return part.status().WithContext(name_);
  if (part->type == proto::type::kError) --in_flight_;  // an error ends the reply
  return part;
}

base::Status AgentClient::SendChunk(uint64_t id, std::string_view bytes) {
  base::Status s = channel_->WriteChunk(id, bytes, net::After(options_.request_timeout));
  return s.ok() ? s : s.WithContext(name_);
}

base::Result<proto::Frame> AgentClient::ReceiveFrame() {
  base::Result<proto::Frame> frame = channel_->ReadFrame(net::After(options_.request_timeout));
  if (!frame.ok()) return frame.status().WithContext(name_);
  return frame;
}

base::Result<nlohmann::json> AgentClient::Call(std::string_view type, nlohmann::json body) {
  base::Result<uint64_t> id = Send(type, std::move(body));
  if (!id.ok()) return id.status();
  base::Result<proto::Message> reply = Receive();
  if (!reply.ok()) return reply.status();
  if (reply->id != *id && !(reply->type == proto::type::kError && reply->id == 0)) {
    return base::Status::Invalid(
        fmt::format("agent answered request {} when {} was expected", reply->id, *id));
  }
  if (reply->type == proto::type::kError) return proto::StatusFromError(*reply);  // as said
  return std::move(reply->body);
}

}  // namespace sb::client
