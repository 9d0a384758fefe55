#include "agent/sync/manifest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "agent/sync/record_bytes.h"

namespace sb::sync {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

Digest Sha256::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  return Digest::FromBytes(std::string_view(reinterpret_cast<const char*>(digest), len));
}

namespace {

void AppendLine(const ManifestEntry& e, fmt::memory_buffer* out) {
  // The path goes last and is length-prefixed, so no name can forge a line.
  // A file's digest in hex, as every version has written it.
  char hex[2 * kDigestBytes];
  std::string_view what = "";  // never a null pointer: fmt copies from it
  if (e.type == NodeType::kSymlink) {
    what = e.link_target;
  } else if (e.sha256.known()) {
    what = {hex, e.sha256.HexInto(hex)};
  }
  // Compiled: parsing the format string at run time was most of the cost
  // of digesting a large tree's lines.
  fmt::format_to(std::back_inserter(*out), FMT_COMPILE("{} {:04o} {} {} {}:{} {}:{}\n"),
                 static_cast<char>(e.type), e.mode, e.mtime_s,
                 e.type == NodeType::kFile ? e.size : 0, what.size(), what, e.path.size(), e.path);
}

}  // namespace

void SortByPath(std::vector<ManifestEntry>& entries) {
  if (!std::is_sorted(entries.begin(), entries.end(), ByPath)) {
    std::sort(entries.begin(), entries.end(), ByPath);
  }
}

const ManifestEntry* FindByPath(const std::vector<ManifestEntry>& entries, std::string_view path) {
  auto it = std::lower_bound(entries.begin(), entries.end(), path,
                             [](const ManifestEntry& e, std::string_view p) { return e.path < p; });
  return it != entries.end() && it->path == path ? &*it : nullptr;
}

std::string ManifestLine(const ManifestEntry& e) {
  fmt::memory_buffer line;
  AppendLine(e, &line);
  return fmt::to_string(line);
}

std::string ManifestDigest(std::vector<ManifestEntry>& entries) {
  SortByPath(entries);  // a scan's entries come sorted already
  Sha256 sha;
  fmt::memory_buffer line;  // one buffer for every line: no allocation each
  for (const ManifestEntry& e : entries) {
    line.clear();
    AppendLine(e, &line);
    sha.Update(line.data(), line.size());
  }
  return sha.HexDigest();
}

std::string_view ParentOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

DirectoryGroups GroupByDirectory(const std::vector<ManifestEntry>& entries) {
  const bool sorted = std::is_sorted(entries.begin(), entries.end(), ByPath);
  // Children by directory, each list in the entries' order.
  std::unordered_map<std::string_view, std::vector<size_t>> children;
  std::vector<std::string_view> dirs = {std::string_view()};
  for (size_t i = 0; i < entries.size(); ++i) {
    children[ParentOf(entries[i].path)].push_back(i);
    if (entries[i].type == NodeType::kDirectory) dirs.push_back(entries[i].path);
  }
  std::sort(dirs.begin() + 1, dirs.end());
  DirectoryGroups g;
  g.dirs.reserve(dirs.size());
  g.first.reserve(dirs.size());
  g.order.reserve(entries.size());
  fmt::memory_buffer line;
  for (std::string_view dir : dirs) {
    g.first.push_back(g.order.size());
    DirectoryDigest d{std::string(dir), 0, ""};
    Sha256 sha;
    if (auto it = children.find(dir); it != children.end()) {
      std::vector<size_t>& mine = it->second;
      if (!sorted) {
        std::sort(mine.begin(), mine.end(),
                  [&](size_t x, size_t y) { return entries[x].path < entries[y].path; });
      }
      for (size_t i : mine) {
        line.clear();
        AppendLine(entries[i], &line);
        sha.Update(line.data(), line.size());
        g.order.push_back(i);
      }
      d.children = mine.size();
    }
    d.sha256 = sha.HexDigest();
    g.dirs.push_back(std::move(d));
  }
  return g;
}

std::vector<DirectoryDigest> DirectoryDigests(const std::vector<ManifestEntry>& entries) {
  return GroupByDirectory(entries).dirs;
}

std::vector<size_t> DirectoriesToRead(const std::vector<DirectoryDigest>& source,
                                      const std::vector<DirectoryDigest>& target) {
  std::vector<size_t> out;
  size_t i = 0;
  for (size_t t = 0; t < target.size(); ++t) {
    while (i < source.size() && source[i].path < target[t].path) ++i;
    if (i == source.size() || source[i].path != target[t].path ||
        source[i].sha256 != target[t].sha256) {
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace sb::sync
