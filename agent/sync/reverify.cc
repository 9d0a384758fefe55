#include "agent/sync/reverify.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "agent/sync/beneath.h"

namespace sb::sync {
namespace {

using base::Status;

// Reads the file `c` back and hashes it. nullopt: it changed since the
// scan (another writer), so this read proves nothing either way.
base::Result<std::optional<std::string>> ReadBack(int root_fd, const std::string& root,
                                                  const VerifyCandidate& c,
                                                  const CachedHash& cached) {
  const std::string where = fmt::format("{}/{}", root, c.path);
  base::Result<base::UniqueFd> fd = OpenBeneath(root_fd, c.path, O_RDONLY | O_NOFOLLOW);
  if (!fd.ok()) {
    if (fd.status().code() == base::Code::kNotFound) return std::optional<std::string>();
    return fd.status().WithContext(root);
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(where, errno);
  if (!S_ISREG(st.st_mode) || !cached.Matches(st)) return std::optional<std::string>();
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
  if (total != cached.size || !cached.Matches(st)) return std::optional<std::string>();
  return std::optional<std::string>(sha.HexDigest());
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
    if (must) must_bytes += c.size;
    if (!must && out.chosen_bytes >= quota) break;
    if (out.chosen_bytes + c.size > policy.budget) {
      if (out.chosen_bytes == 0) {
        out.over_budget = c.path;
        out.chosen.push_back(pending[taken]);
        out.chosen_bytes += c.size;
        ++taken;
      }
      out.stretched = taken < pending.size();
      break;
    }
    out.chosen.push_back(pending[taken]);
    out.chosen_bytes += c.size;
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

base::Result<VerifyReport> Reverify(int root_fd, const std::string& root,
                                    std::vector<ManifestEntry>& entries,
                                    const std::vector<size_t>& reused, HashCache& baseline,
                                    HashCache* record, const VerifyPolicy& policy, int64_t now_ms) {
  VerifyReport report;
  Rotation& rotation = baseline.rotation();
  report.pass = rotation.pass;
  std::vector<VerifyCandidate> candidates;
  candidates.reserve(reused.size());
  for (size_t index : reused) {
    const ManifestEntry& e = entries[index];
    const CachedHash* cached = baseline.Find(e.path);
    if (cached == nullptr) continue;
    candidates.push_back({index, e.path, e.size, cached->verified});
  }
  // Nothing left from before the rotation's start (the first pass after
  // the files were written, or all rewritten since): a new one begins now.
  if (std::none_of(candidates.begin(), candidates.end(),
                   [&](const VerifyCandidate& c) { return c.verified < rotation.cycle_start; })) {
    rotation.cycle_start = report.pass;
  }
  const VerifySelection chosen = SelectForVerify(candidates, rotation, report.pass, policy);
  report.due_bytes = chosen.due_bytes;
  report.stretched = chosen.stretched;
  report.over_budget = chosen.over_budget;
  std::vector<bool> read(candidates.size(), false);
  bool complete = chosen.completes;
  for (size_t i : chosen.chosen) {
    const VerifyCandidate& c = candidates[i];
    CachedHash* cached = baseline.FindMutable(c.path);
    base::Result<std::optional<std::string>> sha = ReadBack(root_fd, root, c, *cached);
    if (!sha.ok()) return sha.status();
    read[i] = true;
    report.read_paths.push_back(c.path);
    if (!sha->has_value()) {  // changed since the scan: the next pass looks again
      complete = false;
      continue;
    }
    ++report.reread_files;
    report.reread_bytes += c.size;
    if (**sha == cached->sha256) {
      cached->verified = report.pass;
      if (record != nullptr) {
        if (CachedHash* now = record->FindMutable(c.path)) now->verified = report.pass;
      }
      continue;
    }
    // Corruption at rest: same inode, size and times, other bytes.
    complete = false;
    cached->verified = 0;
    report.corrupt.push_back(c.path);
    entries[c.index].sha256 = **sha;
    if (record != nullptr) {
      if (CachedHash* now = record->FindMutable(c.path)) now->sha256 = **sha;
    }
  }
  // Where the target stands now: files not taken from the cache were read
  // (hashed) by this scan.
  report.oldest_pass = report.pass;
  for (size_t k = 0; k < candidates.size(); ++k) {
    const VerifyCandidate& c = candidates[k];
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

}  // namespace sb::sync
