#include "agent/sync/hash_cache.h"

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/sync/manifest.h"

namespace sb::sync {
namespace {

constexpr int kVersion = 1;
constexpr uint64_t kMaxCacheBytes = 1ull << 30;

int64_t Ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

}  // namespace

CachedHash CachedHash::Of(const struct stat& st, std::string sha256) {
  return {static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size), Ns(st.st_mtim),
          Ns(st.st_ctim), std::move(sha256)};
}

bool CachedHash::Matches(const struct stat& st) const {
  return Matches(static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
                 Ns(st.st_mtim), Ns(st.st_ctim));
}

bool CachedHash::Matches(uint64_t ino, uint64_t sz, int64_t mtime, int64_t ctime) const {
  return inode == ino && size == sz && mtime_ns == mtime && ctime_ns == ctime;
}

std::string HashCache::PathFor(const std::string& state_dir, const std::string& root) {
  Sha256 sha;
  sha.Update(root.data(), root.size());
  return fmt::format("{}/hashcache/{}.cbor", state_dir, sha.HexDigest().substr(0, 32));
}

base::Result<HashCache> HashCache::Load(const std::string& path) {
  HashCache cache;
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return cache;
  base::Result<std::string> bytes = base::ReadFile(path, kMaxCacheBytes);
  if (!bytes.ok()) return bytes.status();
  nlohmann::json j = nlohmann::json::from_cbor(*bytes, true, false);
  auto bad = [&] {
    return base::Status::Corruption(fmt::format("{}: malformed hash cache", path));
  };
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != kVersion) return bad();
  auto list = j.find("entries");
  if (list == j.end() || !list->is_array()) return bad();
  for (const nlohmann::json& e : *list) {
    if (!e.is_array() || e.size() != 6 || !e[0].is_string() || !e[5].is_string() ||
        !e[1].is_number_unsigned() || !e[2].is_number_unsigned() || !e[3].is_number_integer() ||
        !e[4].is_number_integer()) {
      return bad();
    }
    cache.entries_[e[0].get<std::string>()] = {e[1].get<uint64_t>(), e[2].get<uint64_t>(),
                                               e[3].get<int64_t>(), e[4].get<int64_t>(),
                                               e[5].get<std::string>()};
  }
  cache.present_ = true;
  return cache;
}

base::Status HashCache::Save(const std::string& path) const {
  // Built in place: nlohmann's initializer lists copy, and this is one
  // entry per file of the tree.
  nlohmann::json j = nlohmann::json::object();
  j["version"] = kVersion;
  auto& list = (j["entries"] = nlohmann::json::array()).get_ref<nlohmann::json::array_t&>();
  list.reserve(entries_.size());
  for (const auto& [p, h] : entries_) {
    auto& e = list.emplace_back(nlohmann::json::array()).get_ref<nlohmann::json::array_t&>();
    e.reserve(6);
    e.emplace_back(p);
    e.emplace_back(h.inode);
    e.emplace_back(h.size);
    e.emplace_back(h.mtime_ns);
    e.emplace_back(h.ctime_ns);
    e.emplace_back(h.sha256);
  }
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  SB_RETURN_IF_ERROR(base::MakeDirectories(path.substr(0, path.rfind('/')), 0700));
  return base::WriteFileAtomically(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), 0600);
}

base::Status HashCache::Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return base::Status::FromErrno(path, errno);
  return base::Status::Ok();
}

std::set<std::string> HashCache::Hashes() const {
  std::set<std::string> out;
  for (const auto& [path, hash] : entries_) out.insert(hash.sha256);
  return out;
}

const CachedHash* HashCache::Find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace sb::sync
