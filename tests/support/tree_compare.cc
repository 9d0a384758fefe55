#include "tests/support/tree_compare.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "agent/base/file.h"
#include "agent/sync/manifest.h"

namespace sb::testing {

namespace fs = std::filesystem;

std::vector<std::string> DescribeTree(const std::string& root, const TreeOptions& options) {
  std::vector<std::string> lines;
  std::map<std::pair<dev_t, ino_t>, std::string> first_name;
  std::vector<fs::path> paths;
  if (options.root) {
    struct stat st;
    if (::lstat(root.c_str(), &st) != 0) return {". missing"};
    paths.push_back(root);
  }
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    const std::string rel = p.lexically_relative(root).string();
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
    std::string what;
    if (S_ISREG(st.st_mode)) {
      base::Result<std::string> data = base::ReadFile(p.string(), 1ull << 32);
      if (!data.ok()) throw std::runtime_error(data.status().message());
      sync::Sha256 sha;
      sha.Update(data->data(), data->size());
      what = fmt::format("file {} {}", st.st_size, sha.HexDigest());
      if (options.hard_links && st.st_nlink > 1) {
        auto [it, first] = first_name.try_emplace({st.st_dev, st.st_ino}, rel);
        if (!first) what += " =" + it->second;
      }
    } else if (S_ISDIR(st.st_mode)) {
      what = "dir";
    } else if (S_ISLNK(st.st_mode)) {
      what = "symlink -> " + fs::read_symlink(p).string();
    } else {
      what = "special";
    }
    std::string line =
        fmt::format("{} {} mode {:04o}", rel, what, S_ISLNK(st.st_mode) ? 0 : st.st_mode & 07777);
    if (options.mtimes) {
      line += fmt::format(" mtime {}.{:09}", st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    }
    if (options.owners) line += fmt::format(" owner {}:{}", st.st_uid, st.st_gid);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string TreeDifference(const std::string& a, const std::string& b, const TreeOptions& options) {
  std::vector<std::string> la = DescribeTree(a, options), lb = DescribeTree(b, options);
  std::vector<std::string> only_a, only_b;
  std::set_difference(la.begin(), la.end(), lb.begin(), lb.end(), std::back_inserter(only_a));
  std::set_difference(lb.begin(), lb.end(), la.begin(), la.end(), std::back_inserter(only_b));
  std::string out;
  for (const std::string& l : only_a) out += "- " + l + "\n";
  for (const std::string& l : only_b) out += "+ " + l + "\n";
  return out;
}

}  // namespace sb::testing
