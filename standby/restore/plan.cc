#include "standby/restore/plan.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace sb::restore {
namespace {

using sync::ManifestEntry;
using sync::NodeType;

using sync::ByPath;

// `entries` when sorted by path, else a sorted copy of them in *copy.
const std::vector<ManifestEntry>& InPathOrder(const std::vector<ManifestEntry>& entries,
                                              std::vector<ManifestEntry>* copy) {
  if (std::is_sorted(entries.begin(), entries.end(), ByPath)) return entries;
  *copy = entries;
  std::sort(copy->begin(), copy->end(), ByPath);
  return *copy;
}

bool SameMetadata(const ManifestEntry& s, const ManifestEntry& t) {
  return s.mode == t.mode && s.mtime_s == t.mtime_s;
}

class Planner {
 public:
  Planner(const std::map<std::string, std::string>& hardlinks, const PlanOptions& options)
      : hardlinks_(hardlinks), options_(options) {}

  void Add(std::string path, Action action, uint64_t bytes = 0, std::string link_to = {}) {
    plan_.totals[static_cast<size_t>(action)].count++;
    plan_.totals[static_cast<size_t>(action)].bytes += bytes;
    if (action == Action::kUnchanged) return;
    plan_.entries.push_back({std::move(path), action, bytes, std::move(link_to)});
  }

  // A source entry the target does not have (in this form).
  void AddNew(const ManifestEntry& s) {
    if (auto it = hardlinks_.find(s.path); it != hardlinks_.end()) {
      Add(s.path, Action::kHardlink, 0, it->second);
      return;
    }
    switch (s.type) {
      case NodeType::kDirectory:
        Add(s.path, Action::kDirectory);
        break;
      case NodeType::kSymlink:
        Add(s.path, Action::kSymlink);
        break;
      case NodeType::kFile:
        Add(s.path, Action::kNew, s.size);
        break;
    }
  }

  void Compare(const ManifestEntry& s, const ManifestEntry& t) {
    if (s.type != t.type) {
      Add(t.path, Action::kDelete);
      AddNew(s);
      return;
    }
    if (hardlinks_.count(s.path) > 0) {
      AddNew(s);  // re-linked every time: cheap, and the link is then certain
      return;
    }
    switch (s.type) {
      case NodeType::kDirectory:
        Add(s.path, SameMetadata(s, t) ? Action::kUnchanged : Action::kMetadata);
        break;
      case NodeType::kSymlink:
        Add(s.path, s.link_target == t.link_target ? Action::kUnchanged : Action::kSymlink);
        break;
      case NodeType::kFile:
        if (s.sha256 == t.sha256 && s.size == t.size) {
          Add(s.path, SameMetadata(s, t) ? Action::kUnchanged : Action::kMetadata);
        } else if (s.size < options_.whole_file_below || t.size == 0) {
          Add(s.path, Action::kWhole, s.size);
        } else {
          Add(s.path, Action::kDelta, s.size);
        }
        break;
    }
  }

  Plan Take() { return std::move(plan_); }

 private:
  const std::map<std::string, std::string>& hardlinks_;
  const PlanOptions& options_;
  Plan plan_;
};

}  // namespace

std::string_view ActionName(Action action) {
  static constexpr std::string_view kNames[kActionCount] = {
      "unchanged", "metadata only", "delta",   "whole file", "new",
      "delete",    "directory",     "symlink", "hard link"};
  return kNames[static_cast<size_t>(action)];
}

Plan MakePlan(const std::vector<ManifestEntry>& unsorted_source,
              const std::vector<ManifestEntry>& unsorted_target,
              const std::map<std::string, std::string>& hardlinks, const PlanOptions& options) {
  std::vector<ManifestEntry> source_copy, target_copy;
  const std::vector<ManifestEntry>& source = InPathOrder(unsorted_source, &source_copy);
  const std::vector<ManifestEntry>& target = InPathOrder(unsorted_target, &target_copy);
  Planner planner(hardlinks, options);
  size_t i = 0, j = 0;
  while (i < source.size() || j < target.size()) {
    if (j == target.size() || (i < source.size() && source[i].path < target[j].path)) {
      planner.AddNew(source[i++]);
    } else if (i == source.size() || target[j].path < source[i].path) {
      planner.Add(target[j++].path, Action::kDelete);
    } else {
      planner.Compare(source[i++], target[j++]);
    }
  }
  return planner.Take();
}

base::Result<std::vector<ManifestEntry>> TargetFromDirectories(
    const std::vector<ManifestEntry>& source, const std::vector<sync::DirectoryDigest>& target_dirs,
    const std::vector<size_t>& read, std::vector<ManifestEntry> children) {
  // The directories whose children were not read (in path order), and how
  // many entries the target holds.
  std::vector<std::string_view> same;
  uint64_t announced = 0, read_announced = 0;
  size_t r = 0;
  for (size_t i = 0; i < target_dirs.size(); ++i) {
    announced += target_dirs[i].children;
    if (r < read.size() && read[r] == i) {
      read_announced += target_dirs[i].children;
      ++r;
    } else {
      same.push_back(target_dirs[i].path);
    }
  }
  if (children.size() != read_announced) {
    return base::Status::Corruption(fmt::format(
        "the agent's digests announced {} entries in the {} directories read, it sent {}",
        read_announced, read.size(), children.size()));
  }
  // The source's entries in unchanged directories and those read, merged
  // in path order straight into one vector sized once: no copy of the
  // source's entries beside it (a large tree's manifest is not small).
  std::vector<bool> kept(source.size());
  size_t kept_count = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    kept[i] = std::binary_search(same.begin(), same.end(), sync::ParentOf(source[i].path));
    kept_count += kept[i] ? 1 : 0;
  }
  if (kept_count + children.size() != announced) {
    return base::Status::Corruption(
        fmt::format("the agent's digests announced {} entries, {} are known", announced,
                    kept_count + children.size()));
  }
  sync::SortByPath(children);
  std::vector<ManifestEntry> target;
  target.reserve(announced);
  auto child = children.begin();
  for (size_t i = 0; i < source.size(); ++i) {
    if (!kept[i]) continue;
    while (child != children.end() && child->path < source[i].path) {
      target.push_back(std::move(*child++));
    }
    target.push_back(source[i]);
  }
  target.insert(target.end(), std::make_move_iterator(child),
                std::make_move_iterator(children.end()));
  // A source not in path order merges out of order: sorted once here.
  if (!std::is_sorted(target.begin(), target.end(), ByPath)) sync::SortByPath(target);
  return target;
}

}  // namespace sb::restore
