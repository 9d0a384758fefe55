// A bounded, iterative well-formedness check of CBOR (RFC 8949) before any
// recursive parser sees it.
//
// nlohmann's CBOR reader recurses per nesting level and per chunk of an
// indefinite-length string, so hostile input can exhaust the stack (the
// fuzzer found both). This walk uses an explicit stack and refuses, with the
// byte offset: nesting deeper than `max_depth`, indefinite-length items (our
// encoder never writes them), tags, reserved values, lengths that run past the
// input, and trailing bytes. Pure; thread-safe.

#ifndef AGENT_PROTO_CBOR_SHAPE_H_
#define AGENT_PROTO_CBOR_SHAPE_H_

#include <string_view>

#include "agent/base/status.h"

namespace sb::proto {

base::Status CheckCborShape(std::string_view bytes, int max_depth);

}  // namespace sb::proto

#endif  // AGENT_PROTO_CBOR_SHAPE_H_
