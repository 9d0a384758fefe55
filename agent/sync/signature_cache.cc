#include "agent/sync/signature_cache.h"

#include <dirent.h>
#include <unistd.h>

#include <string_view>
#include <unordered_set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/file.h"
#include "agent/sync/manifest.h"
#include "agent/sync/rsync_delta.h"

namespace sb::sync {

SignatureCache::SignatureCache(const std::string& state_dir, const std::string& root) {
  Sha256 sha;
  sha.Update(root.data(), root.size());
  dir_ = fmt::format("{}/sigcache/{}", state_dir, sha.HexDigest().substr(0, 32));
}

std::string SignatureCache::PathFor(std::string_view sha256) const {
  return fmt::format("{}/{}.sig", dir_, sha256);
}

std::optional<std::string> SignatureCache::Find(const HashCache& files, std::string_view path,
                                                const struct stat& st) const {
  const CachedHash* cached = files.Find(path);
  if (cached == nullptr || !cached->Matches(st)) return std::nullopt;
  base::Result<std::string> saved = base::ReadFile(PathFor(cached->sha256.Hex()), 1ull << 30);
  if (!saved.ok() || !CheckSignature(*saved).ok()) return std::nullopt;
  return std::move(*saved);
}

void SignatureCache::Keep(std::string_view sha256, const std::string& signature,
                          const std::string& where) const {
  base::Status kept = dir_made_ ? base::Status::Ok() : base::MakeDirectories(dir_, 0700);
  if (kept.ok()) {
    kept = base::WriteFileAtomically(PathFor(sha256), signature, 0600, /*durable=*/false);
  }
  dir_made_ = kept.ok();  // a failure makes the next one try the directory again
  if (!kept.ok()) spdlog::warn("signature of {} not kept: {}", where, kept.message());
}

void SignatureCache::Prune(const HashCache& now, uint64_t from) const {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return;
  // The kept signatures (few: large files only), less those a file still
  // has. Not a set of every file's hash: that is the whole tree.
  std::unordered_set<std::string> unused;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.ends_with(".sig")) unused.emplace(n.substr(0, n.size() - 4));
  }
  ::closedir(d);
  for (const auto& [path, cached] : now.files()) {
    if (unused.empty()) break;
    if (cached.size >= from) unused.erase(cached.sha256.Hex());
  }
  for (const std::string& sha : unused) ::unlink(PathFor(sha).c_str());
}

}  // namespace sb::sync
