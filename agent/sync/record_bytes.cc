#include "agent/sync/record_bytes.h"

#include <algorithm>
#include <cstddef>

namespace sb::sync {

void PutVarint(uint64_t v, std::vector<uint8_t>* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return shift < 63 || (b >> 1) == 0;
  }
  return false;
}

Digest Digest::FromHex(std::string_view hex) {
  Digest d;
  if (hex.size() != 2 * kDigestBytes) return d;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < kDigestBytes; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Digest();
    d.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  d.known_ = true;
  return d;
}

Digest Digest::FromBytes(std::string_view bytes) {
  Digest d;
  if (bytes.size() != kDigestBytes) return d;
  std::copy(bytes.begin(), bytes.end(), d.bytes_.begin());
  d.known_ = true;
  return d;
}

size_t Digest::HexInto(char* out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  if (!known_) return 0;
  for (size_t i = 0; i < kDigestBytes; ++i) {
    out[2 * i] = kHex[bytes_[i] >> 4];
    out[2 * i + 1] = kHex[bytes_[i] & 15];
  }
  return 2 * kDigestBytes;
}

std::string Digest::Hex() const {
  std::string hex(2 * kDigestBytes, '\0');
  hex.resize(HexInto(hex.data()));
  return hex;
}

void PathEncoder::Put(std::string_view path, std::vector<uint8_t>* out) {
  size_t shared = 0;
  const size_t most = std::min(previous_.size(), path.size());
  while (shared < most && previous_[shared] == path[shared]) ++shared;
  PutVarint(shared, out);
  PutVarint(path.size() - shared, out);
  out->insert(out->end(), path.begin() + static_cast<std::ptrdiff_t>(shared), path.end());
  previous_.assign(path);
}

PathDecoder::Result PathDecoder::Get(std::string_view* in, size_t max_bytes, std::string* path) {
  uint64_t shared = 0, rest = 0;
  if (!GetVarint(in, &shared) || !GetVarint(in, &rest)) return Result::kCutShort;
  if (shared > previous_.size()) return Result::kSharesTooMuch;
  if (rest > max_bytes || shared + rest > max_bytes) return Result::kTooLong;
  if (rest > in->size()) return Result::kCutShort;
  const std::string_view added = in->substr(0, rest);
  ascending_ = std::string_view(previous_).substr(shared) < added;
  path->assign(previous_, 0, shared);
  path->append(added);
  in->remove_prefix(rest);
  previous_ = *path;  // within its capacity, mostly: no allocation
  return Result::kOk;
}

}  // namespace sb::sync
