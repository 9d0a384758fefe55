// rsync-style differential transfer: the side holding the old file makes its
// signature, the side holding the new file computes a delta against that
// signature, and the old side patches: old + delta = new.
//
// Blocks are about the square root of the file's size long (librsync's
// recommendation), or, for a database whose header states its page size
// (sqlite's), the page size: then each changed page changes one block, and a
// database with scattered changed pages sends about those pages.
//
// Two levels, so that the common case costs little CPU on either side. A
// signature holds, for each aligned block of the old file, a fast 128-bit
// hash (XXH3, seeded per file) and librsync's weak and strong (BLAKE2) sums.
// The delta compares each aligned block of the new file with the old block
// at the same offset by the fast hash: equal blocks become copies; runs of
// the others are encoded by librsync (rolling search over the whole
// signature, so insertions and moves are still found). The signing side
// reuses the old signature's librsync sums for blocks that came through
// unchanged, so only changed blocks are hashed with BLAKE2. A wrong match
// (a collision of the fast hash) cannot go unseen: every staged file is
// verified against the source's SHA-256.
//
// Formats (integers big-endian):
//   signature: "SBSG" u32 version=1, u32 block length, u64 seed, u64 file
//              size, u32 block count, count x 16-byte XXH3-128 (canonical),
//              then librsync's BLAKE2 signature with the same block length.
//   delta:     "SBDL" u32 version=1, then records: 'C' u64 offset u64 length
//              (copy from the old file), 'D' u32 length + bytes (the next
//              piece of a librsync delta; consecutive pieces form one run,
//              which ends with librsync's end command), 'E' u64 new size.
//
// The functions stream: a file of any size needs bounded memory beyond the
// signature (about 2% of the file). Errors name the step and what went
// wrong. Thread-safe (no shared state).

#ifndef AGENT_SYNC_RSYNC_DELTA_H_
#define AGENT_SYNC_RSYNC_DELTA_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

// A fresh random seed for a file's fast block hashes. A seed the backup's
// authors cannot know keeps them from crafting blocks whose hashes collide.
uint64_t NewSignatureSeed();
// The seed of `signature`, or nullopt when it is not a signature of ours.
std::optional<uint64_t> SignatureSeed(std::string_view signature);
// Ok when `signature` is a well-formed signature of ours.
base::Status CheckSignature(std::string_view signature);

// How many bytes the signature of a file of `size` bytes takes: exactly, but
// for a database of whole pages, whose head is not known here: then at most.
uint64_t SignatureSizeEstimate(uint64_t size);

// The signature of the basis (old) file, `size` bytes long.
base::Status MakeSignature(uint64_t size, const ByteSource& basis, const ByteSink& signature,
                           uint64_t seed);

// A signature made from bytes pushed to it as they pass by (the agent signs
// each file while it stages it, so a later restore needs no extra read).
// With `previous`, the signature of the file this one replaces made with the
// same seed, blocks found unchanged at their offset take its sums instead of
// being hashed again (it is taken, not copied: a database's runs to tens of
// MB). Equal to MakeSignature's for the same bytes and seed. One thread.
class SignatureBuilder {
 public:
  SignatureBuilder(uint64_t size, uint64_t seed, std::string previous = {});
  ~SignatureBuilder();
  SignatureBuilder(const SignatureBuilder&) = delete;
  SignatureBuilder& operator=(const SignatureBuilder&) = delete;

  base::Status Add(std::string_view bytes);
  base::Result<std::string> Finish();  // once, after the last Add
  uint64_t reused_blocks() const;      // blocks whose sums came from `previous`

 private:
  struct State;
  std::unique_ptr<State> s_;
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

// The same, telling where each piece of the new file came from: `from` is
// the basis offset of bytes copied by a copy record, nullopt for bytes of a
// librsync run (new, or copied by librsync). A writer can then leave bytes
// that are already in place where they are.
using PieceSink = std::function<base::Status(std::string_view bytes, std::optional<uint64_t> from)>;
base::Status ApplyDeltaPieces(int basis_fd, const ByteSource& delta, const PieceSink& out);

}  // namespace sb::sync

#endif  // AGENT_SYNC_RSYNC_DELTA_H_
