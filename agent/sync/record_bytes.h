// The pieces compact records are written with: LEB128 varints, zigzag for
// signed numbers, SHA-256 digests as their 32 raw bytes, and paths coded
// against the one before (sorted paths share most of their bytes). The
// manifest's record stream (manifest_codec.h) and the hash cache's file
// (hash_cache.h) are both made of them. Readers never read past their
// input; a value they cannot read whole is a false return. Pure functions;
// thread-safe.

#ifndef AGENT_SYNC_RECORD_BYTES_H_
#define AGENT_SYNC_RECORD_BYTES_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::sync {

inline constexpr size_t kDigestBytes = 32;

// Bytes as a CBOR byte string or a record writer holds them, viewed as chars.
inline std::string_view CharsOf(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// 7 bits a byte, low first, the high bit set on every byte but the last.
void PutVarint(uint64_t v, std::vector<uint8_t>* out);
// False when `in` ends first or the value has more than 64 bits.
bool GetVarint(std::string_view* in, uint64_t* v);

// 0, -1, 1, -2 ... as 0, 1, 2, 3 ...: negative numbers are small too.
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// A SHA-256 digest held as its 32 bytes, or none (content not hashed):
// a third of the room of its hex in a std::string, and no allocation.
class Digest {
 public:
  Digest() = default;
  // The digest whose hex is `hex` (64 digits, either case); none for
  // anything else.
  static Digest FromHex(std::string_view hex);
  // The digest of these 32 bytes; none for any other length.
  static Digest FromBytes(std::string_view bytes);

  bool known() const { return known_; }
  // Its 32 bytes; empty when none. A view into this digest, so not to be
  // taken from a temporary one.
  std::string_view bytes() const& {
    return {reinterpret_cast<const char*>(bytes_.data()), known_ ? bytes_.size() : 0};
  }
  std::string_view bytes() const&& = delete;
  // Lower-case hex; "" when none.
  std::string Hex() const;
  // The same into `out` (room for 64), without an allocation; its length.
  size_t HexInto(char* out) const;
  bool operator==(const Digest&) const = default;

 private:
  std::array<uint8_t, kDigestBytes> bytes_{};
  bool known_ = false;
};

// Paths, each coded against the one before: varint bytes shared with it,
// varint length of the rest, the rest. Starts afresh with an empty path.
class PathEncoder {
 public:
  void Put(std::string_view path, std::vector<uint8_t>* out);
  void Reset() { previous_.clear(); }

 private:
  std::string previous_;
};

class PathDecoder {
 public:
  enum class Result { kOk, kCutShort, kSharesTooMuch, kTooLong };
  // The next path into *path, at most `max_bytes` long. The previous path
  // stays as it was unless the result is kOk.
  Result Get(std::string_view* in, size_t max_bytes, std::string* path);
  const std::string& previous() const { return previous_; }
  // Whether the last path read came strictly after the one before it in
  // byte order (true for the first).
  bool ascending() const { return ascending_; }

 private:
  std::string previous_;
  bool ascending_ = true;
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_RECORD_BYTES_H_
