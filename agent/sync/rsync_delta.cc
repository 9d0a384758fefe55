#include "agent/sync/rsync_delta.h"

#include <librsync.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/big_endian.h"
#include "agent/base/file.h"

namespace sb::sync {
namespace {

using base::Status;

constexpr size_t kChunk = size_t{256} * 1024;
constexpr std::string_view kSignatureMagic = "SBSG";
constexpr std::string_view kDeltaMagic = "SBDL";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kSignatureHeader = 32;  // magic, version, block length, seed, size, count
constexpr size_t kHashBytes = 16;        // XXH3-128, canonical form
constexpr size_t kRsHeader = 12;         // librsync's: magic, block length, strong length
constexpr rs_magic_number kRsMagic = RS_BLAKE2_SIG_MAGIC;

void PutU32(std::string* s, uint32_t v) { base::PutBigEndian(s, v, 4); }
void PutU64(std::string* s, uint64_t v) { base::PutBigEndian(s, v, 8); }
using base::GetBigEndian;

XXH128_hash_t BlockHash(std::string_view block, uint64_t seed) {
  return XXH3_128bits_withSeed(block.data(), block.size(), seed);
}
void PutHash(std::string* s, XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  s->append(reinterpret_cast<const char*>(c.digest), sizeof c.digest);
}

// librsync reports failures on stderr as well as in its result codes; the
// codes become our errors, its lines go to the debug log.
void RouteLibrsyncLog(rs_loglevel, const char* msg) { spdlog::debug("librsync: {}", msg); }
void RouteLibrsyncOnce() {
  static std::once_flag routed;
  std::call_once(routed, [] { rs_trace_to(RouteLibrsyncLog); });
}

struct JobDeleter {
  void operator()(rs_job_t* j) const { rs_job_free(j); }
};
using JobPtr = std::unique_ptr<rs_job_t, JobDeleter>;

// A librsync job fed by pushing: input as it comes, output to a sink.
class PushJob {
 public:
  PushJob(rs_job_t* job, std::string_view step) : job_(job), step_(step), buf_(kChunk, '\0') {
    RouteLibrsyncOnce();
  }

  rs_job_t* get() const { return job_.get(); }
  bool done() const { return done_; }
  // Input the job did not take when it ended (nothing may follow its end).
  size_t unconsumed() const { return unconsumed_; }

  // Feeds `bytes`; `eof` after the last of them. Input the job cannot take
  // yet is kept for the next push. The job must end at eof.
  Status Push(std::string_view bytes, bool eof, const ByteSink& out) {
    if (job_ == nullptr) return Status::Internal(fmt::format("{}: no job", step_));
    if (done_) return Status::Internal(fmt::format("{}: input after the end", step_));
    if (!pending_.empty()) {
      pending_.append(bytes);
      bytes = pending_;
    }
    rs_buffers_t b{};
    b.next_in = const_cast<char*>(bytes.data());
    b.avail_in = bytes.size();
    b.eof_in = eof;
    int stalls = 0;
    for (;;) {
      b.next_out = buf_.data();
      b.avail_out = buf_.size();
      const size_t in_before = b.avail_in;
      rs_result r = rs_job_iter(job_.get(), &b);
      const size_t produced = buf_.size() - b.avail_out;
      if (produced > 0) SB_RETURN_IF_ERROR(out(std::string_view(buf_.data(), produced)));
      if (r == RS_DONE) {
        done_ = true;
        unconsumed_ = b.avail_in;
        pending_.clear();
        return Status::Ok();
      }
      if (r != RS_BLOCKED) return Status::Invalid(fmt::format("{}: {}", step_, rs_strerror(r)));
      const bool progress = b.avail_in != in_before || produced > 0;
      if (!eof && produced < buf_.size() && (b.avail_in == 0 || !progress)) {
        pending_.assign(b.next_in, b.avail_in);  // wants more input first
        return Status::Ok();
      }
      if (!progress && ++stalls > 2) {
        return Status::Internal(fmt::format("{}: librsync made no progress", step_));
      }
    }
  }

 private:
  JobPtr job_;
  std::string_view step_;
  std::string buf_;
  std::string pending_;  // input not taken yet
  bool done_ = false;
  size_t unconsumed_ = 0;
};

// Runs `job` (taking it over) to completion, pulling from `in` and draining to
// `out`. Input left over when the job ends is an error: nothing may follow
// librsync's end command.
Status RunJob(rs_job_t* job, const ByteSource& in, const ByteSink& out, std::string_view step) {
  PushJob pushed(job, step);  // owns the job from here
  std::string buf(kChunk, '\0');
  for (;;) {
    base::Result<size_t> n = in(buf.data(), buf.size());
    if (!n.ok()) return n.status().WithContext(step);
    SB_RETURN_IF_ERROR(pushed.Push(std::string_view(buf.data(), *n), *n == 0, out));
    if (pushed.done()) {
      if (pushed.unconsumed() > 0) {
        return Status::Invalid(fmt::format("{}: {} bytes follow the end of librsync's stream", step,
                                           pushed.unconsumed()));
      }
      return Status::Ok();
    }
    if (*n == 0) return Status::Internal(fmt::format("{}: librsync did not end", step));
  }
}

// A database's pages: sqlite states its page size in its header, a
// big-endian 16-bit number at offset 16 after the 16-byte magic (1 meaning
// 65536). A file of whole pages matched block by page changes one block per
// changed page, where blocks of about the square root of its size (32 KiB
// for 1 GiB) straddle pages and each changed 4 KiB page costs a whole block.
constexpr size_t kSniffBytes = 18;  // enough of the head to read a page size
constexpr std::string_view kSqliteMagic{"SQLite format 3\0", 16};
constexpr uint64_t kMinPage = 512, kMaxPage = 65536;
// The most blocks a page-matched signature holds (~27 MB of signature); a
// larger database is matched by runs of 2, 4, ... pages.
constexpr uint64_t kMaxPageBlocks = uint64_t{1} << 19;

// The block length that follows the pages of a file of `size` bytes that
// starts with `head`, or 0 when it is not a database of whole pages.
uint32_t PageBlockLength(std::string_view head, uint64_t size) {
  if (head.size() < kSniffBytes || head.substr(0, kSqliteMagic.size()) != kSqliteMagic) return 0;
  uint64_t page = GetBigEndian(head.data() + 16, 2);
  if (page == 1) page = kMaxPage;
  if (page < kMinPage || page > kMaxPage || (page & (page - 1)) != 0) return 0;
  if (size < page || size % page != 0) return 0;
  uint64_t block = page;
  while (size / block > kMaxPageBlocks) block *= 2;
  return static_cast<uint32_t>(block);
}

// The block and strong sum lengths for a file's size: `block` when it is
// not 0, else librsync's recommendation (about the square root of the size);
// the strong sums are always librsync's longest.
Status BlockArgs(uint64_t size, uint32_t* block_len, uint32_t* strong_len, uint32_t block = 0) {
  rs_magic_number magic = kRsMagic;
  size_t strong = 0;
  size_t length = block;
  rs_result r = rs_sig_args(static_cast<rs_long_t>(size), &magic, &length, &strong);
  if (r != RS_DONE) return Status::Internal(fmt::format("signature: {}", rs_strerror(r)));
  *block_len = static_cast<uint32_t>(length);
  *strong_len = static_cast<uint32_t>(strong);
  return Status::Ok();
}

// A signature, read in place (`bytes` must outlive it).
struct ParsedSignature {
  uint32_t block_len = 0;
  uint32_t strong_len = 0;
  uint64_t seed = 0;
  uint64_t size = 0;
  uint64_t count = 0;  // blocks
  std::string_view hashes;
  std::string_view rsync;  // librsync's signature

  XXH128_hash_t HashAt(uint64_t i) const {
    XXH128_canonical_t c;
    std::memcpy(c.digest, hashes.data() + i * kHashBytes, kHashBytes);
    return XXH128_hashFromCanonical(&c);
  }
  std::string_view SumsAt(uint64_t i) const {
    const size_t entry = 4 + strong_len;
    return rsync.substr(kRsHeader + i * entry, entry);
  }
};

base::Result<ParsedSignature> ParseSignature(std::string_view s) {
  auto bad = [](std::string_view why) {
    return Status::Invalid(fmt::format("reading the signature: {}", why));
  };
  if (s.size() < kSignatureHeader || s.substr(0, 4) != kSignatureMagic) {
    return bad("not a standbyctl signature");
  }
  ParsedSignature p;
  const uint64_t version = GetBigEndian(s.data() + 4, 4);
  if (version != kFormatVersion) return bad(fmt::format("unknown version {}", version));
  p.block_len = static_cast<uint32_t>(GetBigEndian(s.data() + 8, 4));
  p.seed = GetBigEndian(s.data() + 12, 8);
  p.size = GetBigEndian(s.data() + 20, 8);
  p.count = GetBigEndian(s.data() + 28, 4);
  if (p.block_len == 0 || p.count != (p.size + p.block_len - 1) / p.block_len) {
    return bad(
        fmt::format("{} blocks of {} bytes do not make {} bytes", p.count, p.block_len, p.size));
  }
  if ((s.size() - kSignatureHeader) / kHashBytes < p.count) return bad("truncated block hashes");
  p.hashes = s.substr(kSignatureHeader, p.count * kHashBytes);
  p.rsync = s.substr(kSignatureHeader + p.hashes.size());
  if (p.rsync.size() < kRsHeader || GetBigEndian(p.rsync.data(), 4) != kRsMagic ||
      GetBigEndian(p.rsync.data() + 4, 4) != p.block_len) {
    return bad("librsync's part is missing or has another block length");
  }
  p.strong_len = static_cast<uint32_t>(GetBigEndian(p.rsync.data() + 8, 4));
  if (p.strong_len == 0 || p.strong_len > 32 ||
      p.rsync.size() != kRsHeader + p.count * (4 + p.strong_len)) {
    return bad("librsync's part does not hold one entry per block");
  }
  return p;
}

// Reads from `in` until `buf` holds `want` bytes or the source ends.
base::Result<size_t> ReadFull(const ByteSource& in, char* buf, size_t want) {
  size_t have = 0;
  while (have < want) {
    base::Result<size_t> n = in(buf + have, want - have);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    have += *n;
  }
  return have;
}

// The delta's records, read through a buffer.
class DeltaReader {
 public:
  explicit DeltaReader(const ByteSource& in) : in_(in), buf_(kChunk, '\0') {}

  uint64_t offset() const { return consumed_; }

  // The next byte without taking it, or -1 at the end.
  base::Result<int> Peek() {
    if (pos_ == end_) SB_RETURN_IF_ERROR(Fill());
    if (pos_ == end_) return -1;
    return static_cast<uint8_t>(buf_[pos_]);
  }

  Status Read(char* out, size_t n) {
    while (n > 0) {
      if (pos_ == end_) {
        SB_RETURN_IF_ERROR(Fill());
        if (pos_ == end_) {
          return Status::Invalid(
              fmt::format("patch: the delta ends inside a record at byte {}", consumed_));
        }
      }
      const size_t k = std::min(n, end_ - pos_);
      std::memcpy(out, buf_.data() + pos_, k);
      pos_ += k, consumed_ += k, out += k, n -= k;
    }
    return Status::Ok();
  }

  base::Result<uint64_t> Int(int bytes) {
    char b[8];
    SB_RETURN_IF_ERROR(Read(b, static_cast<size_t>(bytes)));
    return GetBigEndian(b, bytes);
  }

 private:
  Status Fill() {
    base::Result<size_t> n = in_(buf_.data(), buf_.size());
    if (!n.ok()) return n.status().WithContext("patch");
    pos_ = 0;
    end_ = *n;
    return Status::Ok();
  }

  const ByteSource& in_;
  std::string buf_;
  size_t pos_ = 0, end_ = 0;
  uint64_t consumed_ = 0;
};

struct BasisReader {
  int fd;
  std::string buffer;
};

rs_result CopyFromBasis(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  auto* basis = static_cast<BasisReader*>(opaque);
  if (basis->buffer.size() < *len) basis->buffer.resize(*len);
  base::Result<size_t> n =
      base::ReadFullAt(basis->fd, basis->buffer.data(), *len, static_cast<uint64_t>(pos), "basis");
  if (!n.ok()) return RS_IO_ERROR;
  if (*n == 0) return RS_INPUT_ENDED;  // the delta points past the basis
  *len = *n;
  *buf = basis->buffer.data();
  return RS_DONE;
}

}  // namespace

ByteSource FdSource(int fd) {
  return [fd](char* buffer, size_t size) -> base::Result<size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buffer, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return base::Status::FromErrno("read", errno);
    }
  };
}

ByteSink FdSink(int fd) {
  return [fd](std::string_view bytes) { return base::WriteAll(fd, bytes, "write"); };
}

ByteSource StringSource(std::string_view data) {
  return [data](char* buffer, size_t size) mutable -> base::Result<size_t> {
    size_t n = std::min(size, data.size());
    std::memcpy(buffer, data.data(), n);
    data.remove_prefix(n);
    return n;
  };
}

ByteSink StringSink(std::string* out) {
  return [out](std::string_view bytes) {
    out->append(bytes);
    return base::Status::Ok();
  };
}

uint64_t NewSignatureSeed() {
  uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    seed = (uint64_t{std::random_device()()} << 32) ^ std::random_device()();
  }
  return seed;
}

std::optional<uint64_t> SignatureSeed(std::string_view signature) {
  base::Result<ParsedSignature> p = ParseSignature(signature);
  if (!p.ok()) return std::nullopt;
  return p->seed;
}

uint64_t SignatureSizeEstimate(uint64_t size) {
  uint32_t block_len = 0, strong_len = 0;
  if (!BlockArgs(size, &block_len, &strong_len).ok() || block_len == 0) return size;
  uint64_t blocks = (size + block_len - 1) / block_len;
  // A file of whole pages may be a database, matched by its smallest pages.
  if (size >= kMinPage && size % kMinPage == 0) {
    blocks = std::max(blocks, std::min(size / kMinPage, kMaxPageBlocks + 1));
  }
  return kSignatureHeader + kRsHeader + blocks * (kHashBytes + 4 + strong_len);
}

Status CheckSignature(std::string_view signature) { return ParseSignature(signature).status(); }

struct SignatureBuilder::State {
  uint64_t declared_size = 0;
  std::string head;        // the file's first bytes, until block_len is chosen from them
  uint32_t block_len = 0;  // 0 until then
  uint32_t strong_len = 0;
  uint64_t seed = 0;
  Status status;  // the first error, kept
  std::string previous_bytes;
  std::optional<ParsedSignature> previous;  // usable for reuse
  std::string pending;                      // the block being filled
  std::string hashes;                       // the blocks' fast hashes so far
  std::string sums;                         // their librsync entries so far
  std::unique_ptr<PushJob> fresh;           // signing blocks not found in `previous`
  std::string fresh_out;
  uint64_t blocks = 0;
  uint64_t size = 0;
  uint64_t reused = 0;

  // Ends the current run of freshly signed blocks: their entries, without
  // the header librsync writes first.
  Status EndFresh() {
    if (fresh == nullptr) return Status::Ok();
    SB_RETURN_IF_ERROR(fresh->Push({}, true, StringSink(&fresh_out)));
    fresh.reset();
    if (fresh_out.size() < kRsHeader) return Status::Internal("signature: no header from librsync");
    sums.append(fresh_out, kRsHeader);
    fresh_out.clear();
    return Status::Ok();
  }

  Status Block(std::string_view block) {
    const XXH128_hash_t h = BlockHash(block, seed);
    PutHash(&hashes, h);
    if (previous && blocks < previous->count && XXH128_isEqual(h, previous->HashAt(blocks))) {
      SB_RETURN_IF_ERROR(EndFresh());
      sums.append(previous->SumsAt(blocks));
      ++reused;
    } else {
      if (fresh == nullptr) {
        fresh =
            std::make_unique<PushJob>(rs_sig_begin(block_len, strong_len, kRsMagic), "signature");
      }
      SB_RETURN_IF_ERROR(fresh->Push(block, false, StringSink(&fresh_out)));
    }
    ++blocks;
    return Status::Ok();
  }

  // Chooses the block length once the head is read (or the file ended),
  // takes `previous` if it was made with the same, and signs the head.
  Status Decide() {
    SB_RETURN_IF_ERROR(
        BlockArgs(declared_size, &block_len, &strong_len, PageBlockLength(head, declared_size)));
    if (!previous_bytes.empty()) {
      base::Result<ParsedSignature> p = ParseSignature(previous_bytes);
      if (p.ok() && p->seed == seed && p->block_len == block_len && p->strong_len == strong_len) {
        previous = *p;
      }
    }
    pending.reserve(block_len);
    // Sized once (growing by doubling would hold up to twice as much).
    const uint64_t count =
        std::min((declared_size + block_len - 1) / block_len, kMaxPageBlocks + 1);
    hashes.reserve(count * kHashBytes);
    sums.reserve(count * (4 + strong_len));
    const std::string first = std::move(head);
    head.clear();
    return AddBlocks(first);
  }

  Status Add(std::string_view bytes) {
    if (block_len == 0) {
      const size_t take = std::min(bytes.size(), kSniffBytes - head.size());
      head.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (head.size() < kSniffBytes) return Status::Ok();
      SB_RETURN_IF_ERROR(Decide());
    }
    return AddBlocks(bytes);
  }

  Status AddBlocks(std::string_view bytes) {
    size += bytes.size();
    if (!pending.empty()) {
      const size_t take = std::min(bytes.size(), block_len - pending.size());
      pending.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (pending.size() < block_len) return Status::Ok();
      SB_RETURN_IF_ERROR(Block(pending));
      pending.clear();
    }
    for (; bytes.size() >= block_len; bytes.remove_prefix(block_len)) {
      SB_RETURN_IF_ERROR(Block(bytes.substr(0, block_len)));
    }
    pending.assign(bytes);
    return Status::Ok();
  }
};

SignatureBuilder::SignatureBuilder(uint64_t size, uint64_t seed, std::string previous)
    : s_(std::make_unique<State>()) {
  s_->declared_size = size;
  s_->seed = seed;
  s_->previous_bytes = std::move(previous);
}

SignatureBuilder::~SignatureBuilder() = default;

uint64_t SignatureBuilder::reused_blocks() const { return s_->reused; }

Status SignatureBuilder::Add(std::string_view bytes) {
  if (s_->status.ok()) s_->status = s_->Add(bytes);
  return s_->status;
}

base::Result<std::string> SignatureBuilder::Finish() {
  State& s = *s_;
  if (s.status.ok() && s.block_len == 0) s.status = s.Decide();
  if (s.status.ok() && !s.pending.empty()) s.status = s.Block(s.pending);
  if (s.status.ok()) s.status = s.EndFresh();
  if (!s.status.ok()) return s.status;
  std::string out;  // sized once: a database's signature runs to tens of MB
  out.reserve(kSignatureHeader + s.hashes.size() + kRsHeader + s.sums.size());
  out += kSignatureMagic;
  PutU32(&out, kFormatVersion);
  PutU32(&out, s.block_len);
  PutU64(&out, s.seed);
  PutU64(&out, s.size);
  PutU32(&out, static_cast<uint32_t>(s.blocks));
  out += s.hashes;
  std::string().swap(s.hashes);
  PutU32(&out, kRsMagic);
  PutU32(&out, s.block_len);
  PutU32(&out, s.strong_len);
  out += s.sums;
  std::string().swap(s.sums);
  return out;
}

Status MakeSignature(uint64_t size, const ByteSource& basis, const ByteSink& signature,
                     uint64_t seed) {
  SignatureBuilder builder(size, seed);
  std::string buf(kChunk, '\0');
  for (;;) {
    base::Result<size_t> n = basis(buf.data(), buf.size());
    if (!n.ok()) return n.status().WithContext("signature");
    if (*n == 0) break;
    SB_RETURN_IF_ERROR(builder.Add(std::string_view(buf.data(), *n)));
  }
  base::Result<std::string> sig = builder.Finish();
  if (!sig.ok()) return sig.status();
  return signature(*sig);
}

base::Result<DeltaStats> MakeDelta(std::string_view signature, const ByteSource& updated,
                                   const ByteSink& delta) {
  base::Result<ParsedSignature> sig = ParseSignature(signature);
  if (!sig.ok()) return sig.status();
  DeltaStats stats;
  std::string out(kDeltaMagic);
  PutU32(&out, kFormatVersion);
  auto flush = [&](size_t at_least) -> Status {
    if (out.size() < at_least) return Status::Ok();
    stats.delta_bytes += out.size();
    Status s = delta(out);
    out.clear();
    return s;
  };

  // librsync's sums, loaded when the first run of changed blocks needs them.
  std::unique_ptr<rs_signature_t, decltype(&rs_free_sumset)> sums(nullptr, rs_free_sumset);
  auto load_sums = [&]() -> Status {
    rs_signature_t* loaded = nullptr;
    Status s = RunJob(
        rs_loadsig_begin(&loaded), StringSource(sig->rsync),
        [](std::string_view) { return Status::Ok(); }, "reading the signature");
    sums.reset(loaded);
    if (!s.ok()) return s;
    rs_result r = rs_build_hash_table(sums.get());
    if (r != RS_DONE) return Status::Invalid(fmt::format("signature: {}", rs_strerror(r)));
    return Status::Ok();
  };
  std::unique_ptr<PushJob> run;
  ByteSink run_out = [&](std::string_view bytes) -> Status {
    out.push_back('D');
    PutU32(&out, static_cast<uint32_t>(bytes.size()));
    out.append(bytes);
    return flush(kChunk);
  };
  auto end_run = [&]() -> Status {
    if (run == nullptr) return Status::Ok();
    SB_RETURN_IF_ERROR(run->Push({}, true, run_out));
    const rs_stats_t* js = rs_job_statistics(run->get());
    stats.literal_bytes += static_cast<uint64_t>(js->lit_bytes);
    stats.matched_bytes += static_cast<uint64_t>(js->copy_bytes);
    run.reset();
    return Status::Ok();
  };
  uint64_t copy_from = 0, copy_len = 0;  // the copy being extended
  auto end_copy = [&]() {
    if (copy_len == 0) return;
    out.push_back('C');
    PutU64(&out, copy_from);
    PutU64(&out, copy_len);
    copy_len = 0;
  };

  const size_t block_len = sig->block_len;
  std::string buf(std::max(kChunk / block_len, size_t{1}) * block_len, '\0');
  uint64_t index = 0, total = 0;
  size_t have = 0;  // bytes in buf
  for (bool eof = false; !eof;) {
    base::Result<size_t> n = ReadFull(updated, buf.data() + have, buf.size() - have);
    if (!n.ok()) return n.status().WithContext("delta");
    have += *n;
    eof = have < buf.size();
    size_t at = 0;
    for (; at < have && (have - at >= block_len || eof); ++index) {
      const std::string_view block(buf.data() + at, std::min(block_len, have - at));
      at += block.size();
      total += block.size();
      if (index < sig->count && XXH128_isEqual(BlockHash(block, sig->seed), sig->HashAt(index))) {
        SB_RETURN_IF_ERROR(end_run());
        const uint64_t from = index * block_len;
        if (copy_len > 0 && copy_from + copy_len == from) {
          copy_len += block.size();
        } else {
          end_copy();
          copy_from = from;
          copy_len = block.size();
        }
        stats.matched_bytes += block.size();
        continue;
      }
      end_copy();
      if (run == nullptr) {
        if (sums == nullptr) SB_RETURN_IF_ERROR(load_sums());
        run = std::make_unique<PushJob>(rs_delta_begin(sums.get()), "delta");
      }
      SB_RETURN_IF_ERROR(run->Push(block, false, run_out));
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
  }
  SB_RETURN_IF_ERROR(end_run());
  end_copy();
  out.push_back('E');
  PutU64(&out, total);
  SB_RETURN_IF_ERROR(flush(0));
  return stats;
}

Status ApplyDelta(int basis_fd, const ByteSource& delta, const ByteSink& out) {
  return ApplyDeltaPieces(
      basis_fd, delta, [&](std::string_view bytes, std::optional<uint64_t>) { return out(bytes); });
}

Status ApplyDeltaPieces(int basis_fd, const ByteSource& delta, const PieceSink& out) {
  DeltaReader in(delta);
  char magic[8];
  SB_RETURN_IF_ERROR(in.Read(magic, sizeof magic));
  if (std::string_view(magic, 4) != kDeltaMagic || GetBigEndian(magic + 4, 4) != kFormatVersion) {
    return Status::Invalid("patch: not a standbyctl delta");
  }
  uint64_t written = 0;
  ByteSink counted = [&](std::string_view bytes) {
    written += bytes.size();
    return out(bytes, std::nullopt);
  };
  BasisReader basis{basis_fd, {}};
  std::string copy_buf;
  for (;;) {
    const uint64_t record_at = in.offset();
    base::Result<int> tag = in.Peek();
    if (!tag.ok()) return tag.status();
    if (*tag < 0) return Status::Invalid("patch: the delta ends without its end record");
    char t;
    SB_RETURN_IF_ERROR(in.Read(&t, 1));
    if (t == 'C') {
      base::Result<uint64_t> from = in.Int(8);
      if (!from.ok()) return from.status();
      base::Result<uint64_t> len = in.Int(8);
      if (!len.ok()) return len.status();
      if (copy_buf.empty()) copy_buf.resize(1 << 20);
      for (uint64_t at = *from, left = *len; left > 0;) {
        base::Result<size_t> n =
            base::ReadFullAt(basis_fd, copy_buf.data(), std::min<uint64_t>(left, copy_buf.size()),
                             at, "patch: reading the old file");
        if (!n.ok()) return n.status();
        if (*n == 0) {
          return Status::Invalid(fmt::format(
              "patch: the delta copies from offset {}, past the end of the old file", at));
        }
        written += *n;
        SB_RETURN_IF_ERROR(out(std::string_view(copy_buf.data(), *n), at));
        at += *n, left -= *n;
      }
    } else if (t == 'D') {
      // One run: the pieces of consecutive 'D' records, up to librsync's end.
      base::Result<uint64_t> first = in.Int(4);
      if (!first.ok()) return first.status();
      uint64_t left = *first;
      ByteSource run = [&](char* buf, size_t n) -> base::Result<size_t> {
        while (left == 0) {
          base::Result<int> next = in.Peek();
          if (!next.ok()) return next.status();
          if (*next != 'D') return 0;
          char d;
          SB_RETURN_IF_ERROR(in.Read(&d, 1));
          base::Result<uint64_t> len = in.Int(4);
          if (!len.ok()) return len.status();
          left = *len;
        }
        const size_t k = static_cast<size_t>(std::min<uint64_t>(n, left));
        SB_RETURN_IF_ERROR(in.Read(buf, k));
        left -= k;
        return k;
      };
      SB_RETURN_IF_ERROR(RunJob(rs_patch_begin(CopyFromBasis, &basis), run, counted, "patch"));
      if (left > 0) {
        return Status::Invalid(
            fmt::format("patch: the run at byte {} has {} bytes after its end", record_at, left));
      }
    } else if (t == 'E') {
      base::Result<uint64_t> size = in.Int(8);
      if (!size.ok()) return size.status();
      if (*size != written) {
        return Status::Invalid(
            fmt::format("patch: the delta made {} bytes, its end record says {}", written, *size));
      }
      base::Result<int> after = in.Peek();
      if (!after.ok()) return after.status();
      if (*after >= 0) return Status::Invalid("patch: bytes after the delta's end record");
      return Status::Ok();
    } else {
      return Status::Invalid(fmt::format("patch: unknown record {:#04x} at byte {} of the delta",
                                         static_cast<uint8_t>(t), record_at));
    }
  }
}

}  // namespace sb::sync
