#include "agent/sync/rsync_delta.h"

#include <librsync.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sb::sync {
namespace {

constexpr size_t kChunk = 256 * 1024;

// librsync reports failures on stderr as well as in its result codes; the
// codes become our errors, its lines go to the debug log.
void RouteLibrsyncLog(rs_loglevel, const char* msg) { spdlog::debug("librsync: {}", msg); }

// Runs a librsync job to completion, feeding `in` and draining to `out`.
base::Status RunJob(rs_job_t* job, const ByteSource& in, const ByteSink& out,
                    std::string_view step) {
  static std::once_flag routed;
  std::call_once(routed, [] { rs_trace_to(RouteLibrsyncLog); });
  std::string in_buf(kChunk, '\0'), out_buf(kChunk, '\0');
  size_t in_have = 0;  // unconsumed input, at the front of in_buf
  bool eof = false;
  bool stalled = false;  // the last round neither consumed nor produced
  for (;;) {
    if (!eof && (in_have == 0 || stalled)) {
      if (in_have == in_buf.size()) in_buf.resize(in_buf.size() * 2);
      base::Result<size_t> n = in(in_buf.data() + in_have, in_buf.size() - in_have);
      if (!n.ok()) return n.status().WithContext(step);
      in_have += *n;
      eof = *n == 0;
    } else if (stalled) {
      return base::Status::Internal(fmt::format("{}: librsync made no progress", step));
    }
    rs_buffers_t b{};
    b.next_in = in_buf.data();
    b.avail_in = in_have;
    b.eof_in = eof;
    b.next_out = out_buf.data();
    b.avail_out = out_buf.size();
    rs_result r = rs_job_iter(job, &b);
    const size_t consumed = in_have - b.avail_in;
    if (consumed > 0) std::memmove(in_buf.data(), in_buf.data() + consumed, b.avail_in);
    in_have = b.avail_in;
    const size_t produced = out_buf.size() - b.avail_out;
    if (produced > 0) SB_RETURN_IF_ERROR(out(std::string_view(out_buf.data(), produced)));
    if (r == RS_DONE) return base::Status::Ok();
    if (r != RS_BLOCKED) {
      return base::Status::Invalid(fmt::format("{}: {}", step, rs_strerror(r)));
    }
    stalled = consumed == 0 && produced == 0;
  }
}

struct JobDeleter {
  void operator()(rs_job_t* j) const { rs_job_free(j); }
};
using JobPtr = std::unique_ptr<rs_job_t, JobDeleter>;

struct BasisReader {
  int fd;
  std::string buffer;
};

rs_result CopyFromBasis(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  auto* basis = static_cast<BasisReader*>(opaque);
  if (basis->buffer.size() < *len) basis->buffer.resize(*len);
  ssize_t n;
  do {
    n = ::pread(basis->fd, basis->buffer.data(), *len, static_cast<off_t>(pos));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return RS_IO_ERROR;
  if (n == 0) return RS_INPUT_ENDED;  // the delta points past the basis
  *len = static_cast<size_t>(n);
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
  return [fd](std::string_view bytes) -> base::Status {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return base::Status::FromErrno("write", errno);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return base::Status::Ok();
  };
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

base::Status MakeSignature(uint64_t size, const ByteSource& basis, const ByteSink& signature) {
  rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
  size_t block_len = 0, strong_len = 0;
  rs_result r = rs_sig_args(static_cast<rs_long_t>(size), &magic, &block_len, &strong_len);
  if (r != RS_DONE) return base::Status::Internal(fmt::format("signature: {}", rs_strerror(r)));
  JobPtr job(rs_sig_begin(block_len, strong_len, magic));
  return RunJob(job.get(), basis, signature, "signature");
}

SignatureBuilder::SignatureBuilder(uint64_t size) : buffer_(64 * 1024, '\0') {
  rs_magic_number magic = RS_BLAKE2_SIG_MAGIC;
  size_t block_len = 0, strong_len = 0;
  if (rs_sig_args(static_cast<rs_long_t>(size), &magic, &block_len, &strong_len) == RS_DONE) {
    job_ = rs_sig_begin(block_len, strong_len, magic);
  }
}

SignatureBuilder::~SignatureBuilder() {
  if (job_ != nullptr) rs_job_free(static_cast<rs_job_t*>(job_));
}

base::Status SignatureBuilder::Run(std::string_view bytes, bool eof) {
  if (job_ == nullptr) return base::Status::Internal("signature: no job");
  rs_buffers_t b{};
  b.next_in = const_cast<char*>(bytes.data());
  b.avail_in = bytes.size();
  b.eof_in = eof;
  int stalls = 0;
  for (;;) {
    b.next_out = buffer_.data();
    b.avail_out = buffer_.size();
    const size_t in_before = b.avail_in;
    rs_result r = rs_job_iter(static_cast<rs_job_t*>(job_), &b);
    const size_t produced = buffer_.size() - b.avail_out;
    out_.append(buffer_.data(), produced);
    if (r == RS_DONE) return base::Status::Ok();
    if (r != RS_BLOCKED) {
      return base::Status::Internal(fmt::format("signature: {}", rs_strerror(r)));
    }
    if (!eof && b.avail_in == 0 && produced < buffer_.size()) return base::Status::Ok();
    if (b.avail_in == in_before && produced == 0 && ++stalls > 2) {
      return base::Status::Internal("signature: librsync made no progress");
    }
  }
}

base::Status SignatureBuilder::Add(std::string_view bytes) { return Run(bytes, false); }

base::Result<std::string> SignatureBuilder::Finish() {
  SB_RETURN_IF_ERROR(Run({}, true));
  return std::move(out_);
}

base::Result<DeltaStats> MakeDelta(std::string_view signature, const ByteSource& updated,
                                   const ByteSink& delta) {
  rs_signature_t* sums = nullptr;
  {
    JobPtr load(rs_loadsig_begin(&sums));
    base::Status s = RunJob(
        load.get(), StringSource(signature), [](std::string_view) { return base::Status::Ok(); },
        "reading the signature");
    if (!s.ok()) {
      if (sums != nullptr) rs_free_sumset(sums);
      return s;
    }
  }
  std::unique_ptr<rs_signature_t, decltype(&rs_free_sumset)> owned(sums, rs_free_sumset);
  rs_result r = rs_build_hash_table(sums);
  if (r != RS_DONE) return base::Status::Invalid(fmt::format("signature: {}", rs_strerror(r)));
  JobPtr job(rs_delta_begin(sums));
  DeltaStats stats;
  SB_RETURN_IF_ERROR(RunJob(
      job.get(), updated,
      [&](std::string_view bytes) {
        stats.delta_bytes += bytes.size();
        return delta(bytes);
      },
      "delta"));
  const rs_stats_t* js = rs_job_statistics(job.get());
  stats.literal_bytes = static_cast<uint64_t>(js->lit_bytes);
  stats.matched_bytes = static_cast<uint64_t>(js->copy_bytes);
  return stats;
}

base::Status ApplyDelta(int basis_fd, const ByteSource& delta, const ByteSink& out) {
  BasisReader basis{basis_fd, {}};
  JobPtr job(rs_patch_begin(CopyFromBasis, &basis));
  return RunJob(job.get(), delta, out, "patch");
}

}  // namespace sb::sync
