// libFuzzer target for what the agent will apply from the network: a delta
// (patched against a fixed basis) and a signature (loaded for a delta).
// Built by scripts/fuzz with clang; not part of the ctest suite.

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/sync/rsync_delta.h"

namespace sbsync = sb::sync;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int basis_fd = [] {
    char path[] = "/tmp/sb-delta-fuzz-XXXXXX";
    int fd = ::mkstemp(path);
    ::unlink(path);
    std::string basis(64 * 1024, '\0');
    for (size_t i = 0; i < basis.size(); ++i) basis[i] = static_cast<char>(i * 131 % 251);
    if (::write(fd, basis.data(), basis.size()) != static_cast<ssize_t>(basis.size())) abort();
    return fd;
  }();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  uint64_t out_bytes = 0;
  // Bounded output: a hostile delta may ask for a huge copy or literal.
  (void)sbsync::ApplyDelta(basis_fd, sbsync::StringSource(bytes), [&](std::string_view b) {
    out_bytes += b.size();
    return out_bytes > (16u << 20) ? sb::base::Status::Invalid("too much output")
                                   : sb::base::Status::Ok();
  });
  std::string delta;
  (void)sbsync::MakeDelta(bytes, sbsync::StringSource("some new content"),
                          sbsync::StringSink(&delta));
  return 0;
}
