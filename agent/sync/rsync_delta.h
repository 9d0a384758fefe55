// rsync-style differential transfer with librsync: the side holding the old
// file makes its signature, the side holding the new file computes a delta
// against that signature, and the old side patches: old + delta = new.
//
// The functions stream: input is read and output written in pieces, so a
// file of any size needs bounded memory beyond the signature (about 1% of
// the file). Signatures use BLAKE2 with librsync's recommended block size.
// Errors name the step and what librsync said. Thread-safe (no shared state).

#ifndef AGENT_SYNC_RSYNC_DELTA_H_
#define AGENT_SYNC_RSYNC_DELTA_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/base/status.h"

namespace sb::sync {

// Where bytes come from: fills up to `size` bytes, returns how many (0 at
// the end) or an error.
using ByteSource = std::function<base::Result<size_t>(char* buffer, size_t size)>;
// Where bytes go.
using ByteSink = std::function<base::Status(std::string_view bytes)>;

ByteSource FdSource(int fd);
ByteSink FdSink(int fd);
ByteSource StringSource(std::string_view data);  // `data` must outlive the source
ByteSink StringSink(std::string* out);

// The signature of the basis (old) file, `size` bytes long.
base::Status MakeSignature(uint64_t size, const ByteSource& basis, const ByteSink& signature);

// A signature made from bytes pushed to it as they pass by (the agent signs
// each file while it stages it, so a later restore needs no extra read).
// Equal to MakeSignature's for the same bytes. One thread.
class SignatureBuilder {
 public:
  explicit SignatureBuilder(uint64_t size);  // the size the file will have
  ~SignatureBuilder();
  SignatureBuilder(const SignatureBuilder&) = delete;
  SignatureBuilder& operator=(const SignatureBuilder&) = delete;

  base::Status Add(std::string_view bytes);
  base::Result<std::string> Finish();  // once, after the last Add

 private:
  base::Status Run(std::string_view bytes, bool eof);
  void* job_ = nullptr;  // rs_job_t
  std::string out_;
  std::string buffer_;
};

// The delta that turns the signed file into `updated`. Counts the literal
// bytes (sent as they are) and matched bytes (copied from the basis).
struct DeltaStats {
  uint64_t literal_bytes = 0;
  uint64_t matched_bytes = 0;
  uint64_t delta_bytes = 0;
};
base::Result<DeltaStats> MakeDelta(std::string_view signature, const ByteSource& updated,
                                   const ByteSink& delta);

// Applies `delta` to the basis file, read at offsets through `basis_fd`
// (pread: the basis is never changed), writing the new file to `out`.
base::Status ApplyDelta(int basis_fd, const ByteSource& delta, const ByteSink& out);

}  // namespace sb::sync

#endif  // AGENT_SYNC_RSYNC_DELTA_H_
