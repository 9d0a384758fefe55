#include "agent/sync/drift.h"

#include <algorithm>
#include <ctime>
#include <set>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/base/units.h"

namespace sb::sync {
namespace {

constexpr std::array<std::string_view, kDriftKindCount> kNames = {"modified", "corrupt", "deleted",
                                                                  "planted", "metadata"};

std::string_view TypeWord(NodeType type) {
  switch (type) {
    case NodeType::kFile:
      return "file";
    case NodeType::kDirectory:
      return "directory";
    case NodeType::kSymlink:
      return "symlink";
  }
  return "entry";
}

std::string Time(int64_t ns) {
  const std::time_t s = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  ::gmtime_r(&s, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
}

// "mode 0644 -> 0600, owner 0:0 -> 1000:1000": what differs, or "".
std::string MetaChanges(uint32_t mode0, uint32_t uid0, uint32_t gid0, uint32_t mode1, uint32_t uid1,
                        uint32_t gid1, bool owners) {
  std::vector<std::string> parts;
  if (mode0 != mode1) parts.push_back(fmt::format("mode {:04o} -> {:04o}", mode0, mode1));
  if (owners && (uid0 != uid1 || gid0 != gid1)) {
    parts.push_back(fmt::format("owner {}:{} -> {}:{}", uid0, gid0, uid1, gid1));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string Join(std::string a, const std::string& b) {
  if (b.empty()) return a;
  if (a.empty()) return b;
  return a + ", " + b;
}

// Calls only_a(a), only_b(b) or both(a, b) for each key of two ranges of
// (key, value) pairs sorted by key, in one pass: no lookups where both hold
// a key, the common case.
template <typename RangeA, typename RangeB, typename OnlyA, typename OnlyB, typename Both>
void Merge(const RangeA& a, const RangeB& b, OnlyA only_a, OnlyB only_b, Both both) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() || j != b.end()) {
    if (j == b.end() || (i != a.end() && (*i).first < (*j).first)) {
      only_a(*i);
      ++i;
    } else if (i == a.end() || (*j).first < (*i).first) {
      only_b(*j);
      ++j;
    } else {
      both(*i, *j);
      ++i;
      ++j;
    }
  }
}

std::string FileWord(const CachedHash& f) { return "file, " + base::FormatSize(f.size); }

}  // namespace

std::string_view DriftKindName(DriftKind kind) { return kNames[static_cast<size_t>(kind)]; }

std::optional<DriftKind> DriftKindFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<DriftKind>(i);
  }
  return std::nullopt;
}

std::vector<Drift> FindDrift(const HashCache& before, const HashCache& now,
                             const std::vector<std::string>& corrupt,
                             const std::vector<bool>* unchanged) {
  std::vector<Drift> out;
  const bool full = before.full_baseline();
  const std::set<std::string, std::less<>> rotten(corrupt.begin(), corrupt.end());
  // A file a re-read found changed under an unchanged stat: that is its
  // drift, whatever else the scan saw.
  auto rotten_at = [&](std::string_view path) {
    if (rotten.empty() || rotten.count(path) == 0) return false;
    out.push_back({DriftKind::kCorrupt, std::string(path),
                   "read back with other bytes under the same inode, size and times"});
    return true;
  };
  using File = HashCache::Files::value_type;
  using Other = std::pair<const std::string, CachedOther>;
  // The index of the file of `before` at hand: the merge goes through them
  // in order, each to file_gone or file_both.
  size_t before_index = 0;
  auto file_gone = [&](const File& f) {
    const auto& [path, was] = f;
    const size_t i = before_index++;
    if (rotten_at(path)) return;
    if (unchanged != nullptr && i < unchanged->size() && (*unchanged)[i]) return;
    auto other = now.others().find(path);
    if (full && other != now.others().end()) {
      out.push_back({DriftKind::kModified, std::string(path),
                     fmt::format("was a file, now a {}", TypeWord(other->second.type))});
    } else {
      out.push_back({DriftKind::kDeleted, std::string(path), FileWord(was)});
    }
  };
  auto file_planted = [&](const File& f) {
    const auto& [path, is] = f;
    if (!full || before.others().count(path) == 0) {
      out.push_back({DriftKind::kPlanted, std::string(path), FileWord(is)});
    }
  };
  auto file_both = [&](const File& b, const File& n) {
    const std::string_view path = b.first;
    const CachedHash& was = b.second;
    const CachedHash& is = n.second;
    ++before_index;
    if (rotten_at(path)) return;
    if (is.sha256 != was.sha256) {
      out.push_back({DriftKind::kModified, std::string(path),
                     was.size == is.size
                         ? fmt::format("content changed ({})", base::FormatSize(is.size))
                         : fmt::format("content changed, {} -> {}", base::FormatSize(was.size),
                                       base::FormatSize(is.size))});
      return;
    }
    std::string changes =
        full ? MetaChanges(was.mode, was.uid, was.gid, is.mode, is.uid, is.gid, true) : "";
    if (was.mtime_ns / 1'000'000'000 != is.mtime_ns / 1'000'000'000) {
      changes = Join(changes, fmt::format("mtime {} -> {}", Time(was.mtime_ns), Time(is.mtime_ns)));
    }
    if (!changes.empty()) out.push_back({DriftKind::kMetadata, std::string(path), changes});
  };
  Merge(before.files(), now.files(), file_gone, file_planted, file_both);
  if (!full) {
    std::sort(out.begin(), out.end(),
              [](const Drift& a, const Drift& b) { return a.path < b.path; });
    return out;
  }
  auto other_gone = [&](const Other& o) {
    const auto& [path, was] = o;
    if (now.Find(path) != nullptr) {
      out.push_back(
          {DriftKind::kModified, path, fmt::format("was a {}, now a file", TypeWord(was.type))});
    } else {
      out.push_back({DriftKind::kDeleted, path, std::string(TypeWord(was.type))});
    }
  };
  auto other_planted = [&](const Other& o) {
    const auto& [path, is] = o;
    if (before.Find(path) == nullptr) {
      out.push_back({DriftKind::kPlanted, path,
                     is.type == NodeType::kSymlink ? "symlink -> " + is.link_target
                                                   : std::string(TypeWord(is.type))});
    }
  };
  auto other_both = [&](const Other& b, const Other& n) {
    const std::string& path = b.first;
    const CachedOther& was = b.second;
    const CachedOther& is = n.second;
    if (is.type != was.type) {
      out.push_back({DriftKind::kModified, path,
                     fmt::format("was a {}, now a {}", TypeWord(was.type), TypeWord(is.type))});
      return;
    }
    // A directory's own mtime follows its entries, whose drift is listed.
    std::string changes =
        was.type == NodeType::kSymlink
            ? MetaChanges(0, was.uid, was.gid, 0, is.uid, is.gid, true)
            : MetaChanges(was.mode, was.uid, was.gid, is.mode, is.uid, is.gid, true);
    if (was.link_target != is.link_target) {
      changes = Join(changes, fmt::format("target {} -> {}", was.link_target, is.link_target));
    }
    if (!changes.empty()) out.push_back({DriftKind::kMetadata, path, changes});
  };
  Merge(before.others(), now.others(), other_gone, other_planted, other_both);
  std::sort(out.begin(), out.end(), [](const Drift& a, const Drift& b) { return a.path < b.path; });
  return out;
}

DriftCounts CountDrift(const std::vector<Drift>& drift) {
  DriftCounts counts{};
  for (const Drift& d : drift) ++counts[static_cast<size_t>(d.kind)];
  return counts;
}

}  // namespace sb::sync
