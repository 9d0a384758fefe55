#include "agent/proto/message.h"

#include <fmt/format.h>

#include "agent/base/quote.h"
#include "agent/proto/cbor_shape.h"

namespace sb::proto {
using nlohmann::json;

size_t CborSizeBound(const json& value) {
  constexpr size_t kHeader = 9;
  switch (value.type()) {
    case json::value_t::string:
      return kHeader + value.get_ref<const std::string&>().size();
    case json::value_t::binary:
      return kHeader + value.get_binary().size();
    case json::value_t::array: {
      size_t n = kHeader;
      for (const json& e : value) n += CborSizeBound(e);
      return n;
    }
    case json::value_t::object: {
      size_t n = kHeader;
      for (const auto& [key, e] : value.items()) n += kHeader + key.size() + CborSizeBound(e);
      return n;
    }
    default:
      return kHeader;
  }
}

std::string EncodeMessage(const Message& m) {
  json j = {{"id", m.id}, {"type", m.type}, {"body", m.body}};
  if (m.deadline_ms) j["deadline_ms"] = *m.deadline_ms;
  std::vector<uint8_t> bytes = json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

base::Result<Message> DecodeMessage(std::string_view payload) {
  // Checked first by a walk that cannot recurse: nlohmann's reader can.
  base::Status shape = CheckCborShape(payload, kMaxNestingDepth);
  if (!shape.ok()) {
    if (shape.message().starts_with("message nests")) return shape;
    return base::Status::Invalid(fmt::format("message is not valid CBOR ({})", shape.message()));
  }
  json j;
  try {
    j = json::from_cbor(payload.begin(), payload.end(), /*strict=*/true,
                        /*allow_exceptions=*/false);
  } catch (const json::exception& e) {
    // The library throws in a few places even when told not to (a declared
    // size over max_size(), found by fuzzing); an untrusted message must
    // never take the process down.
    return base::Status::Invalid(fmt::format("message is not valid CBOR ({})", e.what()));
  }
  if (j.is_discarded()) return base::Status::Invalid("message is not valid CBOR");
  if (!j.is_object()) return base::Status::Invalid("message is not a CBOR map");
  Message m;
  for (auto& [key, value] : j.items()) {
    if (key == "id") {
      if (!value.is_number_unsigned()) {
        return base::Status::Invalid("message field \"id\" is not an unsigned integer");
      }
      m.id = value.get<uint64_t>();
    } else if (key == "type") {
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          value.get_ref<const std::string&>().size() > 64) {
        return base::Status::Invalid("message field \"type\" is not a name");
      }
      m.type = value.get<std::string>();
    } else if (key == "body") {
      if (!value.is_object()) return base::Status::Invalid("message field \"body\" is not a map");
      m.body = std::move(value);
    } else if (key == "deadline_ms") {
      if (!value.is_number_unsigned() || value.get<uint64_t>() > UINT32_MAX) {
        return base::Status::Invalid("message field \"deadline_ms\" is not a 32-bit count");
      }
      m.deadline_ms = value.get<uint32_t>();
    } else {
      return base::Status::Invalid(fmt::format("message has unknown field {}", base::Quote(key)));
    }
  }
  if (!j.contains("id")) return base::Status::Invalid("message has no \"id\"");
  if (m.type.empty()) return base::Status::Invalid("message has no \"type\"");
  return m;
}

Message ErrorReply(uint64_t id, const base::Status& status) {
  Message m;
  m.id = id;
  m.type = std::string(type::kError);
  // Bounded, whatever a message quoted: the reply must fit the protocol.
  m.body = {{"code", std::string(base::CodeName(status.code()))},
            {"message", base::Printable(status.message(), kMaxErrorMessageBytes)}};
  return m;
}

base::Status StatusFromError(const Message& reply) {
  static constexpr base::Code kCodes[] = {
      base::Code::kInvalidArgument, base::Code::kNotFound,          base::Code::kIoError,
      base::Code::kCorruption,      base::Code::kPermissionDenied,  base::Code::kTimeout,
      base::Code::kUnavailable,     base::Code::kFailedPrecondition};
  auto text = [&](const char* key, const char* fallback) {
    auto it = reply.body.find(key);
    return it != reply.body.end() && it->is_string() ? it->get<std::string>()
                                                     : std::string(fallback);
  };
  std::string code = text("code", "");
  std::string message = text("message", "malformed error reply");
  for (base::Code c : kCodes) {
    if (base::CodeName(c) == code) return base::Status(c, message);
  }
  return base::Status::Internal(message);
}

}  // namespace sb::proto
