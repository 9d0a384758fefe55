// The hash cache's file: what is saved loads back the same, its size stays
// about an entry's name and digest, a cache an older agent saved as CBOR
// still loads and is replaced, and a damaged or malformed file is refused
// with what is wrong.

#include "agent/sync/hash_cache.h"

#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <random>

#include <fmt/format.h>
#include <xxhash.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "agent/base/big_endian.h"
#include "agent/sync/record_bytes.h"
#include "tests/support/temp_dir.h"

namespace sb::sync {
namespace {

using testing::TempDir;
using namespace std::string_literals;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Everything a cache holds, for comparing two.
void CheckSame(const HashCache& a, const HashCache& b) {
  CHECK(a.present() == b.present());
  CHECK(a.SameEntries(b));
  CHECK(a.others() == b.others());
  CHECK(a.rotation() == b.rotation());
  CHECK(a.full_baseline() == b.full_baseline());
}

HashCache EdgeCache() {
  HashCache cache;
  CachedHash h;
  h.inode = UINT64_MAX;
  h.size = 0;
  h.mtime_ns = -1'500'000'000;  // before 1970
  h.ctime_ns = INT64_MAX;
  h.sha256 = Digest::FromHex(std::string(64, 'f'));
  h.mode = 07777;
  h.uid = UINT32_MAX;
  h.gid = 0;
  h.verified = UINT64_MAX;
  cache.Put("a", h);
  h.sha256 = Digest();  // a file whose hash was not taken
  h.mtime_ns = INT64_MIN;
  cache.Put("a b/\xc3\xa9t\xc3\xa9", h);
  h.sha256 = Digest::FromHex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  cache.Put(std::string(200, 'd') + "/" + std::string(255, 'n'), h);
  cache.Put(std::string(200, 'd') + "/" + std::string(254, 'n'), h);
  cache.PutOther("a b", {NodeType::kDirectory, 0755, 1, 2, ""});
  cache.PutOther("link", {NodeType::kSymlink, 0777, 0, 0, "../" + std::string(4000, 't')});
  cache.rotation() = {7, 3, 1, 2, -1};
  return cache;
}

TEST_CASE("hash cache: what is saved loads back the same", "[hashcache]") {
  TempDir dir;
  const std::string path = HashCache::PathFor(dir.Sub("state"), "/srv/www");
  CHECK(path.ends_with(".cache"));

  HashCache empty;
  REQUIRE(empty.Save(path).ok());
  base::Result<HashCache> loaded = HashCache::Load(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->present());
  CHECK(loaded->size() == 0);

  HashCache cache = EdgeCache();
  for (bool full : {true, false}) {
    cache.set_full_baseline(full);
    REQUIRE(cache.Save(path).ok());
    loaded = HashCache::Load(path);
    REQUIRE(loaded.ok());
    CHECK(loaded->present());
    CHECK(loaded->size() == 4);
    CHECK_FALSE(loaded->Find("a b/\xc3\xa9t\xc3\xa9")->sha256.known());
    CHECK(loaded->SameEntries(cache));
    CHECK(loaded->others() == cache.others());
    CHECK(loaded->rotation() == cache.rotation());
    CHECK(loaded->full_baseline() == full);
  }
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("hash cache: puts in any order, the last of a path winning", "[hashcache]") {
  HashCache cache;
  auto sized = [](uint64_t size) {
    CachedHash h;
    h.size = size;
    return h;
  };
  cache.Put("b", sized(1));
  cache.Put("d/x", sized(2));
  cache.Put("a", sized(3));    // out of order: sorted when next looked at
  cache.Put("d/x", sized(4));  // again, while out of order
  cache.Put("c", sized(5));
  REQUIRE(cache.Find("d/x") != nullptr);
  CHECK(cache.Find("d/x")->size == 4);
  CHECK(cache.size() == 4);
  cache.Put("b", sized(6));  // in order again: replaced in place
  cache.Erase("c");
  cache.Erase("nothing");
  CHECK(cache.Find("c") == nullptr);
  CHECK(cache.Find("") == nullptr);
  std::vector<std::pair<std::string, uint64_t>> seen;
  for (const auto& [path, h] : cache.files()) seen.emplace_back(path, h.size);
  CHECK(seen == std::vector<std::pair<std::string, uint64_t>>{{"a", 3}, {"b", 6}, {"d/x", 4}});
  // Saved in order, and loads back the same.
  base::Result<HashCache> back = HashCache::Parse(CharsOf(cache.Serialize()));
  REQUIRE(back.ok());
  CHECK(back->SameEntries(cache));
  HashCache other;
  other.ReserveLike(cache);
  CHECK_FALSE(other.SameEntries(cache));
}

TEST_CASE("hash cache: files kept by index stay, puts after them win, against a model",
          "[hashcache]") {
  // A map of path to size is the model; puts in random order, some paths
  // again, and now and then only some files kept (as a listing that reused
  // them leaves the controller's cache).
  std::mt19937 rng(20261203);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  HashCache cache;
  std::map<std::string, uint64_t> model;
  for (int step = 0; step < 3000; ++step) {
    if (pick(200) == 0) {
      std::vector<bool> keep(cache.size());
      std::map<std::string, uint64_t> kept;
      size_t i = 0;
      for (const auto& [path, size] : model) {
        REQUIRE(cache.IndexOf(path) == i);
        CHECK(cache.at(i).size == size);
        keep[i] = pick(4) != 0 || step % 3 == 0;
        if (keep[i]) kept.emplace(path, size);
        ++i;
      }
      CHECK(cache.IndexOf("no such path") == cache.size());
      cache.KeepOnly(keep);
      model = std::move(kept);
    } else {
      const std::string path = fmt::format("d{}/f{}", pick(7), pick(60));
      CachedHash h;
      h.size = static_cast<uint64_t>(step);
      cache.Put(path, h);
      model[path] = h.size;
    }
  }
  std::vector<std::pair<std::string, uint64_t>> seen;
  for (const auto& [path, h] : cache.files()) seen.emplace_back(path, h.size);
  CHECK(seen == std::vector<std::pair<std::string, uint64_t>>(model.begin(), model.end()));
  base::Result<HashCache> back = HashCache::Parse(CharsOf(cache.Serialize()));
  REQUIRE(back.ok());
  CHECK(back->SameEntries(cache));

  // Keeping none, or a mark for every file and more, is fine too.
  HashCache all = cache;
  all.KeepOnly(std::vector<bool>(cache.size() + 3, true));
  CHECK(all.SameEntries(cache));
  // Keeping few: their paths are packed anew, and puts after still win.
  REQUIRE(cache.size() > 2);
  HashCache few = cache;
  auto second = few.files().begin();
  ++second;
  const std::string kept((*second).first);
  std::vector<bool> one(few.size());
  one[1] = true;
  few.KeepOnly(one);
  CachedHash h;
  h.size = 1;
  few.Put("a", h);
  few.Put("e", h);
  h.size = 2;
  few.Put(kept, h);
  seen.clear();
  for (const auto& [path, hash] : few.files()) seen.emplace_back(path, hash.size);
  CHECK(seen == std::vector<std::pair<std::string, uint64_t>>{{"a", 1}, {kept, 2}, {"e", 1}});
  // A partial record absorbed: its files put, its directories and
  // symlinks in place of the cache's.
  HashCache part;
  part.PutOther("d", {NodeType::kDirectory, 0700, 0, 0, ""});
  h.size = 3;
  part.Put("e", h);
  part.Put("0", h);
  few.PutOther("gone", {NodeType::kDirectory, 0755, 0, 0, ""});
  few.set_full_baseline(false);
  few.Absorb(std::move(part));
  seen.clear();
  for (const auto& [path, hash] : few.files()) seen.emplace_back(path, hash.size);
  CHECK(seen ==
        std::vector<std::pair<std::string, uint64_t>>{{"0", 3}, {"a", 1}, {kept, 2}, {"e", 3}});
  CHECK(few.others().size() == 1);
  CHECK(few.others().count("d") == 1);
  CHECK(few.full_baseline());

  cache.KeepOnly({});
  CHECK(cache.size() == 0);
}

TEST_CASE("hash cache: a digest is 64 hex digits or none", "[hashcache]") {
  const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  Digest d = Digest::FromHex(hex);
  REQUIRE(d.known());
  CHECK(d.Hex() == hex);
  CHECK(d.bytes().size() == kDigestBytes);
  CHECK(Digest::FromHex("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef") == d);
  CHECK(Digest::FromBytes(d.bytes()) == d);
  for (const std::string& bad :
       {std::string(), hex.substr(1), hex + "0", "g" + hex.substr(1), hex.substr(0, 63) + " "}) {
    INFO(bad);
    CHECK_FALSE(Digest::FromHex(bad).known());
    CHECK(Digest::FromHex(bad).Hex().empty());
  }
  CHECK_FALSE(Digest::FromBytes("short").known());
  CHECK(Digest() == Digest::FromHex("nothing"));
}

TEST_CASE("hash cache: an entry costs about its name and digest", "[hashcache]") {
  // 10,000 files of a deep tree, with paths of ~70 bytes: each path is
  // coded against the one before, the digest is raw.
  HashCache cache;
  for (int i = 0; i < 10'000; ++i) {
    CachedHash h;
    h.inode = 1'000'000 + static_cast<uint64_t>(i);
    h.size = 4096 + static_cast<uint64_t>(i);
    h.mtime_ns = 1'764'000'000'123'456'789 + i;
    h.ctime_ns = h.mtime_ns;
    h.sha256 = Digest::FromHex(fmt::format("{:064x}", i * 7919));
    h.mode = 0644;
    h.uid = h.gid = 1000;
    cache.Put(fmt::format("project/subsystem_with_a_long_name/module_{:03}/source_file_{:05}.cc",
                          i / 100, i),
              h);
  }
  const std::vector<uint8_t> bytes = cache.Serialize();
  CHECK(bytes.size() < size_t{10'000} * 80);  // whole paths alone would take 70 of each
  base::Result<HashCache> back = HashCache::Parse(CharsOf(bytes));
  REQUIRE(back.ok());
  CHECK(back->SameEntries(cache));

  // Saved in pieces as they are made (several at this size), not held
  // whole: the file holds the same bytes, and a writer's error stops the
  // rest.
  std::vector<size_t> pieces;
  CHECK(cache
            .SerializeTo([&](std::string_view piece) {
              pieces.push_back(piece.size());
              return base::Status::Ok();
            })
            .ok());
  CHECK(pieces.size() > 2);
  CHECK(pieces.back() == 8);  // the checksum
  TempDir dir;
  const std::string path = dir.Sub("pieces.cache");
  REQUIRE(cache.Save(path).ok());
  CHECK(testing::ReadWholeFile(path) == std::string(CharsOf(bytes)));
  int calls = 0;
  const base::Status failed = cache.SerializeTo([&](std::string_view) {
    ++calls;
    return base::Status::IoError("disk full");
  });
  CHECK(calls == 1);
  CHECK(failed.message() == "disk full");
}

// A cache as an agent before version 3 saved it: CBOR, version 2.
std::vector<uint8_t> LegacyCache() {
  nlohmann::json j = {
      {"version", 2},
      {"entries", nlohmann::json::array({nlohmann::json::array(
                      {"a.txt", 11u, 4u, 1700000000123456789, 1700000000123456789,
                       std::string(64, 'c'), 0640u, 1000u, 1000u, 3u})})},
      {"others", nlohmann::json::array({nlohmann::json::array({"d", "d", 0750u, 0u, 0u, ""})})},
      {"rotation", {3, 1, 0, 0, 0}},
      {"full_baseline", true}};
  return nlohmann::json::to_cbor(j);
}

TEST_CASE("hash cache: an older agent's CBOR cache loads, and saving replaces it", "[hashcache]") {
  TempDir dir;
  const std::string path = HashCache::PathFor(dir.Sub("state"), "/srv/www");
  const std::string legacy = path.substr(0, path.size() - 6) + ".cbor";
  const std::vector<uint8_t> old = LegacyCache();
  dir.Write(legacy.substr(dir.path().size() + 1), CharsOf(old), 0600);

  base::Result<HashCache> loaded = HashCache::Load(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->present());
  REQUIRE(loaded->Find("a.txt") != nullptr);
  CHECK(*loaded->Find("a.txt") == CachedHash{11, 4, 1700000000123456789, 1700000000123456789,
                                             Digest::FromHex(std::string(64, 'c')), 0640, 1000,
                                             1000, 3});
  CHECK(loaded->others().at("d") == CachedOther{NodeType::kDirectory, 0750, 0, 0, ""});
  CHECK(loaded->rotation() == Rotation{3, 1, 0, 0, 0});
  CHECK(loaded->full_baseline());
  CHECK(loaded->older_form());

  // Saved in the new form, the old file goes: were the new one removed
  // before a commit, the old must not come back as a stale baseline.
  REQUIRE(loaded->Save(path).ok());
  CHECK_FALSE(Exists(legacy));
  base::Result<HashCache> again = HashCache::Load(path);
  REQUIRE(again.ok());
  CheckSame(*again, *loaded);
  CHECK_FALSE(again->older_form());

  // An older agent, run again, saves its form beside this one's: its is
  // the newer.
  dir.Write(legacy.substr(dir.path().size() + 1), CharsOf(old), 0600);
  HashCache newer;
  REQUIRE(newer.Save(path + ".tmp").ok());
  REQUIRE(::rename((path + ".tmp").c_str(), path.c_str()) == 0);
  CheckSame(HashCache::Load(path).value(), *loaded);
  REQUIRE(HashCache::Remove(path).ok());
  CHECK_FALSE(Exists(path));
  CHECK_FALSE(Exists(legacy));
  CHECK_FALSE(HashCache::Load(path).value().present());
}

TEST_CASE("hash cache: a damaged file is refused, naming it", "[hashcache]") {
  TempDir dir;
  const std::string path = HashCache::PathFor(dir.Sub("state"), "/srv/www");
  REQUIRE(EdgeCache().Save(path).ok());
  const std::string good = testing::ReadWholeFile(path);
  const std::string name = path.substr(dir.path().size() + 1);

  // One bit flipped anywhere after the magic: a digest's bit would
  // otherwise read as drift of a file that never changed.
  for (size_t at = 8; at < good.size(); at += 97) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    dir.Write(name, bad, 0600);
    base::Result<HashCache> loaded = HashCache::Load(path);
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.status().message() ==
          path + ": malformed hash cache: its checksum does not match");
  }
  // Every cut.
  for (size_t size = 8; size < good.size(); size += 13) {
    CHECK_FALSE(HashCache::Parse(std::string_view(good).substr(0, size)).ok());
  }
  dir.Write(name, "SBHCACHE", 0600);
  CHECK(HashCache::Load(path).status().message() == path + ": malformed hash cache: cut short");
  // Neither this form nor CBOR.
  dir.Write(name, "\xa1\x67version", 0600);
  CHECK(HashCache::Load(path).status().message() == path + ": malformed hash cache");
}

// A body after the magic, with its checksum.
std::string Sealed(const std::vector<uint8_t>& body) {
  std::string bytes = "SBHCACHE" + std::string(CharsOf(body));
  base::PutBigEndian(&bytes, XXH3_64bits(bytes.data(), bytes.size()), 8);
  return bytes;
}

std::vector<uint8_t> Varints(std::initializer_list<uint64_t> values) {
  std::vector<uint8_t> out;
  for (uint64_t v : values) PutVarint(v, &out);
  return out;
}

std::vector<uint8_t> operator+(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A file record: path coded against `shared` bytes of the one before.
std::vector<uint8_t> File(uint64_t shared, std::string_view rest, uint8_t digest_bytes = 0,
                          uint64_t uid = 0) {
  std::vector<uint8_t> out = Varints({shared, rest.size()});
  out.insert(out.end(), rest.begin(), rest.end());
  out = out + Varints({1, 2, 3, 4});
  out.push_back(digest_bytes);
  out.insert(out.end(), digest_bytes, 0xab);
  return out + Varints({0644, uid, 0, 0});
}

TEST_CASE("hash cache: malformed records are refused with the reason", "[hashcache]") {
  const std::vector<uint8_t> head = Varints({3, 1, 0, 1, 0, 0, 0});  // version .. rotation
  const std::vector<uint8_t> no_others = Varints({0});
  struct Row {
    const char* what;
    std::vector<uint8_t> body;
    std::string message;
  } rows[] = {
      {"another version", Varints({4}), "version 4"},
      {"more files than records", head + Varints({2}) + File(0, "a", 32) + no_others,
       "file 2: cut short"},
      {"out of order", head + Varints({2}) + File(0, "b") + File(0, "a") + no_others,
       "file 2: \"a\" out of order"},
      {"twice", head + Varints({2}) + File(0, "a") + File(1, "") + no_others,
       "file 2: \"a\" out of order"},
      {"shares too much", head + Varints({2}) + File(0, "a") + File(2, "b") + no_others,
       "file 2: a malformed path"},
      {"a path too long", head + Varints({1}) + File(0, std::string(4096, 'a')) + no_others,
       "file 1: a malformed path"},
      {"an empty path", head + Varints({1}) + File(0, "") + no_others, "file 1: an empty path"},
      {"a short digest", head + Varints({1}) + File(0, "a", 5) + no_others,
       "file 1: a digest of another length"},
      {"a uid beyond 32 bits", head + Varints({1}) + File(0, "a", 0, 1ull << 32) + no_others,
       "file 1: a 32-bit field out of range"},
      {"an unknown type", head + Varints({0, 1, 0, 1}) + std::vector<uint8_t>{'a', 'x'},
       "directory or symlink 1: an unknown type"},
      {"a target cut short",
       head + Varints({0, 1, 0, 1}) + std::vector<uint8_t>{'a', 'l'} + Varints({0777, 0, 0, 9}) +
           std::vector<uint8_t>{'t'},
       "directory or symlink 1: cut short"},
      {"bytes after the end", head + Varints({0, 0, 0}), "bytes after its end"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    base::Result<HashCache> parsed = HashCache::Parse(Sealed(row.body));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message() == row.message);
  }
  // The rows' frame itself parses.
  base::Result<HashCache> fine =
      HashCache::Parse(Sealed(head + Varints({2}) + File(0, "a", 32) + File(1, "b") + no_others));
  REQUIRE(fine.ok());
  CHECK(fine->size() == 2);
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  CHECK(fine->Find("a")->sha256.Hex() == hex);
  CHECK_FALSE(fine->Find("ab")->sha256.known());
}

}  // namespace
}  // namespace sb::sync
