// Messages: typed requests and replies, encoded as CBOR maps in message
// frames (frame.h). Every message carries:
//
//   id           request id chosen by the client; a reply repeats it
//   type         "Hello", "HostInfo", ... for requests; a reply has the
//                request's type, or "Error"
//   body         a map, its fields depending on the type
//   deadline_ms  optional, requests only: how long the client will wait
//
// The full list of types and fields is in docs/protocol.md. Decoding is
// strict and bounded (nesting depth, sizes): a message from the network is
// untrusted. Pure functions; thread-safe.

#ifndef AGENT_PROTO_MESSAGE_H_
#define AGENT_PROTO_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/base/status.h"

namespace sb::proto {

inline constexpr int kProtocolVersion = 1;
inline constexpr int kMaxNestingDepth = 16;

// Request types of protocol version 1.
namespace type {
inline constexpr std::string_view kHello = "Hello";
inline constexpr std::string_view kPing = "Ping";
inline constexpr std::string_view kHostInfo = "HostInfo";
inline constexpr std::string_view kIndicators = "Indicators";
inline constexpr std::string_view kRunCommand = "RunCommand";
inline constexpr std::string_view kShutdown = "Shutdown";
inline constexpr std::string_view kLease = "Lease";
inline constexpr std::string_view kScan = "Scan";
inline constexpr std::string_view kScanChildren = "ScanChildren";
inline constexpr std::string_view kVerify = "Verify";
inline constexpr std::string_view kStatFile = "StatFile";
inline constexpr std::string_view kRestoreBegin = "RestoreBegin";
inline constexpr std::string_view kSignature = "Signature";
inline constexpr std::string_view kStageFile = "StageFile";
inline constexpr std::string_view kChange = "Change";
inline constexpr std::string_view kRestoreCommit = "RestoreCommit";
inline constexpr std::string_view kRestoreAbort = "RestoreAbort";
inline constexpr std::string_view kError = "Error";  // replies only
}  // namespace type

struct Message {
  uint64_t id = 0;
  std::string type;
  nlohmann::json body = nlohmann::json::object();
  std::optional<uint32_t> deadline_ms;
};

// What the lists of a multi-item message (Scan parts, Change batches) may
// add up to, as CborSizeBound counts: half the message frame limit, which
// leaves room for everything else in the message.
inline constexpr size_t kBatchBytes = size_t{512} * 1024;

// An upper bound of the CBOR encoding's size of `value`, counted without
// encoding it (every header counted at its largest, 9 bytes), so that lists
// can be cut into messages by size rather than by count: one entry may
// carry a 4 KiB path.
size_t CborSizeBound(const nlohmann::json& value);

// The CBOR encoding of `message` (the payload of a message frame).
std::string EncodeMessage(const Message& message);

// Parses and checks a message frame's payload: valid CBOR, a map with an
// unsigned id, a non-empty string type, a map body, depth within
// kMaxNestingDepth, no unknown top-level fields.
base::Result<Message> DecodeMessage(std::string_view payload);

// An Error reply to request `id`: body {code, message}, the message
// escaped and cut at kMaxErrorMessageBytes.
inline constexpr size_t kMaxErrorMessageBytes = size_t{16} * 1024;
Message ErrorReply(uint64_t id, const base::Status& status);

// The Status an Error reply carries (kInternal for a malformed one).
base::Status StatusFromError(const Message& reply);

// Reads body[key] as T, or returns an error naming the message type and key.
template <typename T>
base::Result<T> BodyField(const Message& m, std::string_view key) {
  auto it = m.body.find(key);
  if (it == m.body.end()) {
    return base::Status::Invalid(std::string(m.type) + ": missing field \"" + std::string(key) +
                                 "\"");
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return base::Status::Invalid(std::string(m.type) + ": field \"" + std::string(key) +
                                 "\" has the wrong type");
  }
}

}  // namespace sb::proto

#endif  // AGENT_PROTO_MESSAGE_H_
