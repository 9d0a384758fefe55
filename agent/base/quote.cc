#include "agent/base/quote.h"

#include <algorithm>

#include <fmt/format.h>

namespace sb::base {
namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0.
size_t Utf8Length(std::string_view s) {
  const auto c = static_cast<unsigned char>(s[0]);
  size_t n = c < 0x80                 ? 1
             : c >= 0xc2 && c <= 0xdf ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
  }
  // Overlong, surrogate and out-of-range forms.
  const auto c1 = static_cast<unsigned char>(s.size() > 1 ? s[1] : 0);
  if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
      (c == 0xf4 && c1 > 0x8f)) {
    return 0;
  }
  return n;
}

std::string Escape(std::string_view s, size_t max_bytes, bool quoted) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 2);
  if (quoted) out += '"';
  size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = Utf8Length(s.substr(i));
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    if (n == 0 || c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  if (quoted) out += '"';
  if (i < s.size()) out += fmt::format("...({} bytes)", s.size());
  return out;
}

}  // namespace

std::string Printable(std::string_view s, size_t max_bytes) { return Escape(s, max_bytes, false); }

std::string Quote(std::string_view s, size_t max_bytes) { return Escape(s, max_bytes, true); }

}  // namespace sb::base
