#include "agent/proto/message.h"

#include <fmt/format.h>

namespace sb::proto {
namespace {

using nlohmann::json;

// nlohmann's CBOR reader recurses once per nesting level, so a frame of
// nested arrays could exhaust the stack. This SAX handler builds the DOM like
// the library's own, but stops the parse once the depth passes the limit.
class BoundedDomBuilder {
 public:
  BoundedDomBuilder(json* root, size_t input_bytes)
      : dom_(*root, /*allow_exceptions=*/false), input_bytes_(input_bytes) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) { return Enter() && Fits(n) && dom_.start_object(n); }
  bool key(json::string_t& v) { return dom_.key(v); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return Enter() && Fits(n) && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    error_ = fmt::format("bad CBOR at byte {}: {}", position, e.what());
    return false;
  }

  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > kMaxNestingDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  // A declared element count larger than the input cannot be honest; the
  // DOM parser would throw on a count over max_size() (found by fuzzing).
  bool Fits(std::size_t n) {
    if (n != static_cast<std::size_t>(-1) && n > input_bytes_) {
      error_ = fmt::format("a container declares {} elements in a {}-byte message", n,
                           input_bytes_);
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  size_t input_bytes_;
  int depth_ = 0;
  bool too_deep_ = false;
  std::string error_;
};

}  // namespace

std::string EncodeMessage(const Message& m) {
  json j = {{"id", m.id}, {"type", m.type}, {"body", m.body}};
  if (m.deadline_ms) j["deadline_ms"] = *m.deadline_ms;
  std::vector<uint8_t> bytes = json::to_cbor(j);
  return std::string(bytes.begin(), bytes.end());
}

base::Result<Message> DecodeMessage(std::string_view payload) {
  json j;
  BoundedDomBuilder builder(&j, payload.size());
  bool ok = false;
  try {
    ok = json::sax_parse(payload.begin(), payload.end(), &builder, json::input_format_t::cbor,
                         /*strict=*/true);
  } catch (const json::exception& e) {
    // The library throws in a few places even when told not to; an untrusted
    // message must never take the process down.
    return base::Status::Invalid(fmt::format("message is not valid CBOR ({})", e.what()));
  }
  if (builder.too_deep()) {
    return base::Status::Invalid(
        fmt::format("message nests deeper than {} levels", kMaxNestingDepth));
  }
  if (!ok) {
    return base::Status::Invalid(
        fmt::format("message is not valid CBOR ({})",
                    builder.error().empty() ? std::string("parse stopped") : builder.error()));
  }
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
      return base::Status::Invalid(fmt::format("message has unknown field \"{}\"", key));
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
  m.body = {{"code", std::string(base::CodeName(status.code()))}, {"message", status.message()}};
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
