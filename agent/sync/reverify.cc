#include "agent/sync/reverify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "agent/sync/beneath.h"

namespace sb::sync {
namespace {

using base::Status;

constexpr size_t kReaders = 8;

// Reads the file `c` back and hashes it. nullopt: it changed since the
// scan (another writer), so this read proves nothing either way.
base::Result<std::optional<Digest>> ReadBack(int root_fd, const std::string& root,
                                             const VerifyCandidate& c, const CachedHash& cached) {
  const std::string where = fmt::format("{}/{}", root, c.path);
  base::Result<base::UniqueFd> fd = OpenBeneath(root_fd, c.path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) {
    if (fd.status().code() == base::Code::kNotFound) return std::optional<Digest>();
    return fd.status().WithContext(root);
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(where, errno);
  if (!S_ISREG(st.st_mode) || !cached.Matches(st)) return std::optional<Digest>();
  // Pages still in memory would hide what the disk holds: drop the clean
  // ones first, so the bytes come from the device, and again afterwards,
  // so a re-read does not push the services' pages out.
  ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_DONTNEED);
  Sha256 sha;
  uint64_t total = 0;
  SB_RETURN_IF_ERROR(base::ReadFd(fd->get(), where, [&](std::string_view piece) {
    sha.Update(piece.data(), piece.size());
    total += piece.size();
    return Status::Ok();
  }));
  ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_DONTNEED);
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(where, errno);
  if (total != cached.size || !cached.Matches(st)) return std::optional<Digest>();
  return std::optional<Digest>(sha.Finish());
}

}  // namespace

VerifySelection SelectForVerify(const std::vector<VerifyCandidate>& candidates,
                                const Rotation& rotation, uint64_t pass,
                                const VerifyPolicy& policy) {
  VerifySelection out;
  const uint64_t every = std::max<uint32_t>(policy.every, 1);
  // Pending: not read in this rotation yet. A file read in it that is due
  // again (the rotation ran long: a budget, a corrupt file) is taken too,
  // so none waits more than `every` passes while the budget allows.
  std::vector<size_t> pending;
  uint64_t pending_bytes = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const VerifyCandidate& c = candidates[i];
    if (!policy.full && c.size > policy.budget) {
      if (out.too_large_files++ == 0 || c.path < out.over_budget) out.over_budget = c.path;
      continue;
    }
    const bool not_yet = c.verified < rotation.cycle_start;
    if (!policy.full && !not_yet && c.verified + every > pass) continue;
    pending.push_back(i);
    pending_bytes += c.size;
  }
  std::sort(pending.begin(), pending.end(), [&](size_t a, size_t b) {
    const VerifyCandidate& x = candidates[a];
    const VerifyCandidate& y = candidates[b];
    return x.verified != y.verified ? x.verified < y.verified : x.path < y.path;
  });
  if (policy.full) {
    out.chosen = std::move(pending);
    out.chosen_bytes = out.due_bytes = pending_bytes;
    out.completes = true;
    return out;
  }
  // The rotation covers passes cycle_start .. cycle_start + every - 1; an
  // overdue one (stretched by the budget) takes all that is left.
  const uint64_t end = rotation.cycle_start + every;
  const uint64_t passes_left = end > pass ? end - pass : 1;
  const uint64_t quota = (pending_bytes + passes_left - 1) / passes_left;
  uint64_t must_bytes = 0;
  size_t taken = 0;
  for (; taken < pending.size(); ++taken) {
    const VerifyCandidate& c = candidates[pending[taken]];
    const bool must = c.verified + every <= pass;
    // The share is not overshot (a big file waits for a pass whose share
    // holds it, or until it is due), the budget never.
    if (!must && out.chosen_bytes + c.size > quota) break;
    if (out.chosen_bytes + c.size > policy.budget) {
      out.stretched = true;
      break;
    }
    out.chosen.push_back(pending[taken]);
    out.chosen_bytes += c.size;
    if (must) must_bytes += c.size;
  }
  // What the pace asked for, including due files the budget held back.
  for (size_t i = taken; i < pending.size(); ++i) {
    const VerifyCandidate& c = candidates[pending[i]];
    if (c.verified + every <= pass) must_bytes += c.size;
  }
  out.due_bytes = std::max(quota, must_bytes);
  if (out.stretched && out.chosen_bytes >= out.due_bytes) out.stretched = false;
  // Done when no file of the rotation is left behind.
  size_t left = 0;
  for (size_t i = taken; i < pending.size(); ++i) {
    if (candidates[pending[i]].verified < rotation.cycle_start) ++left;
  }
  out.completes = left == 0;
  return out;
}

VerifyPlan PlanReverify(HashCache& baseline, const VerifyPolicy& policy) {
  VerifyPlan plan;
  Rotation& rotation = baseline.rotation();
  plan.pass = ++rotation.pass;
  plan.candidates.reserve(baseline.files().size());
  for (const auto& [path, cached] : baseline.files()) {
    plan.candidates.push_back({path, cached.size, cached.verified});
  }
  // Nothing left from before the rotation's start (the first pass after
  // the files were written, or all rewritten since): a new one begins now.
  if (std::none_of(plan.candidates.begin(), plan.candidates.end(),
                   [&](const VerifyCandidate& c) { return c.verified < rotation.cycle_start; })) {
    rotation.cycle_start = plan.pass;
  }
  plan.selection = SelectForVerify(plan.candidates, rotation, plan.pass, policy);
  return plan;
}

base::Result<ReadBacks> ReadPlanned(int root_fd, const std::string& root, const VerifyPlan& plan,
                                    const HashCache& baseline) {
  // Small files cost a disk round trip each: several readers keep the
  // device's queue full (hashing is the lesser part, SHA-256 runs at GB/s).
  const std::vector<size_t>& chosen = plan.selection.chosen;
  ReadBacks reads(chosen.size());
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status failed;
  auto work = [&] {
    for (size_t k = next++; k < chosen.size(); k = next++) {
      const VerifyCandidate& c = plan.candidates[chosen[k]];
      base::Result<std::optional<Digest>> sha = ReadBack(root_fd, root, c, *baseline.Find(c.path));
      if (!sha.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (failed.ok()) failed = sha.status();
        next = chosen.size();
        return;
      }
      reads[k] = *sha;
    }
  };
  const size_t threads = std::min<size_t>(kReaders, chosen.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  if (!failed.ok()) return failed;
  return reads;
}

VerifyReport FinishReverify(const VerifyPlan& plan, const ReadBacks& reads,
                            std::vector<ManifestEntry>& entries, const std::vector<size_t>& reused,
                            HashCache& baseline, int64_t now_ms) {
  VerifyReport report;
  Rotation& rotation = baseline.rotation();
  report.pass = plan.pass;
  report.due_bytes = plan.selection.due_bytes;
  report.stretched = plan.selection.stretched;
  report.over_budget = plan.selection.over_budget;
  report.too_large_files = plan.selection.too_large_files;
  // The files whose hash the scan took from the baseline: the others it
  // read itself (their stat changed), or they are gone.
  // Both in path order, matched in one pass: entry_of[k] is the entry of
  // candidate k, or kNotReused.
  constexpr size_t kNotReused = SIZE_MAX;
  std::vector<size_t> by_path = reused;
  std::sort(by_path.begin(), by_path.end(),
            [&](size_t a, size_t b) { return entries[a].path < entries[b].path; });
  std::vector<size_t> entry_of(plan.candidates.size(), kNotReused);
  for (size_t k = 0, r = 0; k < plan.candidates.size() && r < by_path.size(); ++k) {
    while (r < by_path.size() && entries[by_path[r]].path < plan.candidates[k].path) ++r;
    if (r < by_path.size() && entries[by_path[r]].path == plan.candidates[k].path) {
      entry_of[k] = by_path[r];
    }
  }
  std::vector<bool> read(plan.candidates.size(), false);
  bool complete = plan.selection.completes;
  for (size_t k = 0; k < plan.selection.chosen.size(); ++k) {
    const VerifyCandidate& c = plan.candidates[plan.selection.chosen[k]];
    const size_t entry = entry_of[plan.selection.chosen[k]];
    if (!reads[k] || entry == kNotReused) {
      // Changed since the baseline: the scan hashed it (or it is gone);
      // this read proves nothing either way.
      complete = complete && entry == kNotReused;
      continue;
    }
    read[plan.selection.chosen[k]] = true;
    report.read_paths.emplace_back(c.path);
    ++report.reread_files;
    report.reread_bytes += c.size;
    CachedHash* cached = baseline.FindMutable(c.path);
    if (*reads[k] == cached->sha256) {
      cached->verified = report.pass;
      continue;
    }
    // Corruption at rest: same inode, size and times, other bytes.
    complete = false;
    cached->verified = 0;
    report.corrupt.emplace_back(c.path);
    report.corrupt_read.push_back(*reads[k]);
    entries[entry].sha256 = *reads[k];
  }
  // Where the target stands now: the files taken from the cache; the
  // others were read (hashed) by this scan.
  report.oldest_pass = report.pass;
  for (size_t k = 0; k < plan.candidates.size(); ++k) {
    const VerifyCandidate& c = plan.candidates[k];
    if (entry_of[k] == kNotReused) continue;
    if (!read[k]) {
      ++report.cached_files;
      report.cached_bytes += c.size;
    }
    const uint64_t verified = baseline.Find(c.path)->verified;
    if (verified == 0) {
      ++report.never_files;
      report.never_bytes += c.size;
    } else {
      report.oldest_pass = std::min(report.oldest_pass, verified);
    }
  }
  if (complete) {
    rotation.done_start = report.never_files > 0 ? 0 : report.oldest_pass;
    rotation.done_end = report.pass;
    rotation.done_end_ms = now_ms;
    rotation.cycle_start = report.pass + 1;
  }
  report.rotation = rotation;
  return report;
}

base::Result<VerifyReport> Reverify(int root_fd, const std::string& root,
                                    std::vector<ManifestEntry>& entries,
                                    const std::vector<size_t>& reused, HashCache& baseline,
                                    const VerifyPolicy& policy, int64_t now_ms) {
  const VerifyPlan plan = PlanReverify(baseline, policy);
  base::Result<ReadBacks> reads = ReadPlanned(root_fd, root, plan, baseline);
  if (!reads.ok()) return reads.status();
  return FinishReverify(plan, *reads, entries, reused, baseline, now_ms);
}

}  // namespace sb::sync
