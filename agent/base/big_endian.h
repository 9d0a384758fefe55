// Big-endian integers in byte strings, for the file formats the agent writes
// (signatures, deltas, staged patches).

#ifndef AGENT_BASE_BIG_ENDIAN_H_
#define AGENT_BASE_BIG_ENDIAN_H_

#include <cstdint>
#include <string>

namespace sb::base {

// Appends the low `bytes` bytes of `v`, most significant first.
inline void PutBigEndian(std::string* s, uint64_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    s->push_back(static_cast<char>(v >> shift));
  }
}

// Reads `bytes` bytes at `p`, most significant first.
inline uint64_t GetBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace sb::base

#endif  // AGENT_BASE_BIG_ENDIAN_H_
