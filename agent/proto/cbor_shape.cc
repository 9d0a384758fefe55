#include "agent/proto/cbor_shape.h"

#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace sb::proto {

base::Status CheckCborShape(std::string_view bytes, int max_depth) {
  const size_t size = bytes.size();
  size_t pos = 0;
  auto fail = [&](size_t at, std::string_view what) {
    return base::Status::Invalid(fmt::format("bad CBOR at byte {}: {}", at, what));
  };
  // Items still expected at each open level; the root expects one item.
  std::vector<uint64_t> pending = {1};
  while (!pending.empty()) {
    if (pending.back() == 0) {
      pending.pop_back();
      continue;
    }
    --pending.back();
    if (pos >= size) return fail(pos, "unexpected end of input");
    const size_t head = pos;
    const uint8_t initial = static_cast<uint8_t>(bytes[pos++]);
    const int major = initial >> 5;
    const int info = initial & 0x1f;
    uint64_t arg = static_cast<uint64_t>(info);
    if (info >= 24 && info <= 27) {
      const size_t n = size_t{1} << (info - 24);
      if (size - pos < n) return fail(head, "truncated length");
      arg = 0;
      for (size_t i = 0; i < n; ++i) arg = (arg << 8) | static_cast<uint8_t>(bytes[pos++]);
    } else if (info == 31) {
      return fail(head, "indefinite-length items are not used in this protocol");
    } else if (info > 27) {
      return fail(head, "reserved additional information");
    }
    switch (major) {
      case 0:  // unsigned integer
      case 1:  // negative integer
        break;
      case 2:  // byte string
      case 3:  // text string
        if (arg > size - pos) return fail(head, "string runs past the end of the input");
        pos += static_cast<size_t>(arg);
        break;
      case 4:  // array
      case 5:  // map: twice as many items
        if (arg > (size - pos) / (major == 5 ? 2 : 1)) {
          return fail(head, "container declares more items than the input holds");
        }
        if (arg > 0) {
          if (static_cast<int>(pending.size()) > max_depth) {
            return base::Status::Invalid(
                fmt::format("message nests deeper than {} levels", max_depth));
          }
          pending.push_back(major == 5 ? arg * 2 : arg);
        }
        break;
      case 6:
        return fail(head, "tags are not used in this protocol");
      case 7:  // simple values and floats; the argument bytes were consumed above
        if (info == 24 && arg < 32) return fail(head, "invalid simple value");
        break;
    }
  }
  if (pos != size) return fail(pos, "trailing bytes after the message");
  return base::Status::Ok();
}

}  // namespace sb::proto
