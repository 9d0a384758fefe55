#include "agent/sync/hash_cache.h"

#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/base/file.h"
#include "agent/sync/manifest.h"

namespace sb::sync {
namespace {

// Version 1 kept files only, keyed, with their hash; version 2 adds modes,
// owners, the pass of the last re-read, directories, symlinks and the
// rotation. A version 1 cache still serves its hashes.
constexpr int kVersion = 2;
constexpr uint64_t kMaxCacheBytes = 1ull << 30;

int64_t Ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

}  // namespace

CachedHash CachedHash::Of(const struct stat& st, std::string sha256, uint64_t verified) {
  CachedHash h;
  h.inode = static_cast<uint64_t>(st.st_ino);
  h.size = static_cast<uint64_t>(st.st_size);
  h.mtime_ns = Ns(st.st_mtim);
  h.ctime_ns = Ns(st.st_ctim);
  h.sha256 = std::move(sha256);
  h.mode = st.st_mode & 07777;
  h.uid = st.st_uid;
  h.gid = st.st_gid;
  h.verified = verified;
  return h;
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
  if (j.is_discarded() || !j.is_object()) return bad();
  const int version = j.value("version", 0);
  if (version != 1 && version != kVersion) return bad();
  const size_t width = version == 1 ? 6 : 10;
  auto list = j.find("entries");
  if (list == j.end() || !list->is_array()) return bad();
  for (nlohmann::json& e : *list) {
    if (!e.is_array() || e.size() != width || !e[0].is_string() || !e[5].is_string() ||
        !e[1].is_number_unsigned() || !e[2].is_number_unsigned() || !e[3].is_number_integer() ||
        !e[4].is_number_integer()) {
      return bad();
    }
    CachedHash h;
    h.inode = e[1].get<uint64_t>();
    h.size = e[2].get<uint64_t>();
    h.mtime_ns = e[3].get<int64_t>();
    h.ctime_ns = e[4].get<int64_t>();
    h.sha256 = std::move(e[5].get_ref<std::string&>());
    if (version > 1) {
      for (size_t i = 6; i < 10; ++i) {
        if (!e[i].is_number_unsigned()) return bad();
      }
      h.mode = e[6].get<uint32_t>();
      h.uid = e[7].get<uint32_t>();
      h.gid = e[8].get<uint32_t>();
      h.verified = e[9].get<uint64_t>();
    }
    // Saved in path order: each goes at the end, without a search.
    cache.entries_.insert_or_assign(cache.entries_.end(), std::move(e[0].get_ref<std::string&>()),
                                    std::move(h));
  }
  if (version > 1) {
    auto others = j.find("others");
    auto rotation = j.find("rotation");
    if (others == j.end() || !others->is_array() || rotation == j.end() || !rotation->is_array() ||
        rotation->size() != 5) {
      return bad();
    }
    for (nlohmann::json& e : *others) {
      if (!e.is_array() || e.size() != 6 || !e[0].is_string() || !e[1].is_string() ||
          !e[2].is_number_unsigned() || !e[3].is_number_unsigned() || !e[4].is_number_unsigned() ||
          !e[5].is_string()) {
        return bad();
      }
      const std::string& type = e[1].get_ref<const std::string&>();
      if (type != "d" && type != "l") return bad();
      cache.others_.insert_or_assign(
          cache.others_.end(), std::move(e[0].get_ref<std::string&>()),
          CachedOther{static_cast<NodeType>(type[0]), e[2].get<uint32_t>(), e[3].get<uint32_t>(),
                      e[4].get<uint32_t>(), e[5].get<std::string>()});
    }
    for (size_t i = 0; i < 5; ++i) {
      if (!(*rotation)[i].is_number_integer()) return bad();
    }
    cache.rotation_ = {(*rotation)[0].get<uint64_t>(), (*rotation)[1].get<uint64_t>(),
                       (*rotation)[2].get<uint64_t>(), (*rotation)[3].get<uint64_t>(),
                       (*rotation)[4].get<int64_t>()};
    cache.full_baseline_ = j.value("full_baseline", false);
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
    e.reserve(10);
    e.emplace_back(p);
    e.emplace_back(h.inode);
    e.emplace_back(h.size);
    e.emplace_back(h.mtime_ns);
    e.emplace_back(h.ctime_ns);
    e.emplace_back(h.sha256);
    e.emplace_back(h.mode);
    e.emplace_back(h.uid);
    e.emplace_back(h.gid);
    e.emplace_back(h.verified);
  }
  auto& others = (j["others"] = nlohmann::json::array()).get_ref<nlohmann::json::array_t&>();
  others.reserve(others_.size());
  for (const auto& [p, o] : others_) {
    others.push_back(nlohmann::json::array(
        {p, std::string(1, static_cast<char>(o.type)), o.mode, o.uid, o.gid, o.link_target}));
  }
  j["rotation"] = {rotation_.pass, rotation_.cycle_start, rotation_.done_start, rotation_.done_end,
                   rotation_.done_end_ms};
  j["full_baseline"] = full_baseline_;
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

CachedHash* HashCache::FindMutable(const std::string& path) {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace sb::sync
