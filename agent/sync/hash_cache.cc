#include "agent/sync/hash_cache.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <fmt/format.h>
#include <xxhash.h>
#include <nlohmann/json.hpp>

#include "agent/base/big_endian.h"
#include "agent/base/file.h"
#include "agent/base/quote.h"
#include "agent/sync/manifest.h"
#include "agent/sync/path.h"
#include "agent/sync/record_bytes.h"

namespace sb::sync {
namespace {

using base::Status;

// The file: the magic, then varints (signed ones zigzag-coded):
//   version (3), flags (1: full_baseline), the rotation's five numbers,
//   the count of files, then each file's record:
//     path (coded against the previous file's, record_bytes.h), inode,
//     size, mtime_ns, ctime_ns, digest length (0 or 32) and its bytes,
//     mode, uid, gid, verified
//   the count of directories and symlinks, then each one's record:
//     path (coded afresh), type byte 'd' or 'l', mode, uid, gid, length of
//     the symlink's target and its bytes
//   8 bytes: XXH3-64 of everything before, big-endian.
// Paths strictly in order in each list. The checksum tells a cache the
// disk damaged from one a restore wrote: a flipped digest bit would
// otherwise be reported as drift of a file that never changed.
//
// Versions 1 and 2 were a CBOR map, in files named .cbor: version 1 kept
// files only, keyed, with their hash; version 2 added modes, owners, the
// pass of the last re-read, directories, symlinks and the rotation. Both
// still load, version 1 serving its hashes.
constexpr std::string_view kMagic = "SBHCACHE";
constexpr uint64_t kVersion = 3;
constexpr uint64_t kFullBaseline = 1;
constexpr uint64_t kMaxCacheBytes = 1ull << 30;
constexpr std::string_view kSuffix = ".cache";
constexpr std::string_view kLegacySuffix = ".cbor";

int64_t Ns(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// Where a cache saved before version 3 is, for a version 3 path.
std::string LegacyPathOf(const std::string& path) {
  if (!path.ends_with(kSuffix)) return {};
  return path.substr(0, path.size() - kSuffix.size()) + std::string(kLegacySuffix);
}

uint64_t Checksum(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

// Reads one cache file's bytes. Every method returns false at the first
// thing wrong, with why() saying what.
class CacheReader {
 public:
  explicit CacheReader(std::string_view in) : in_(in) {}

  bool Varint(uint64_t* v) { return GetVarint(&in_, v) || Fail("cut short"); }
  bool Varint32(uint32_t* v) {
    uint64_t wide = 0;
    if (!Varint(&wide)) return false;
    if (wide > UINT32_MAX) return Fail("a 32-bit field out of range");
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  bool Signed(int64_t* v) {
    uint64_t z = 0;
    if (!Varint(&z)) return false;
    *v = UnZigZag(z);
    return true;
  }
  bool Bytes(uint64_t n, std::string_view* out) {
    if (n > in_.size()) return Fail("cut short");
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Byte(uint8_t* b) {
    std::string_view one;
    if (!Bytes(1, &one)) return false;
    *b = static_cast<uint8_t>(one[0]);
    return true;
  }
  // The next path of a list, strictly after the one before.
  bool Path(PathDecoder* paths, std::string* path) {
    switch (paths->Get(&in_, kMaxPathBytes, path)) {
      case PathDecoder::Result::kOk:
        break;
      case PathDecoder::Result::kCutShort:
        return Fail("cut short");
      case PathDecoder::Result::kSharesTooMuch:
      case PathDecoder::Result::kTooLong:
        return Fail("a malformed path");
    }
    if (path->empty()) return Fail("an empty path");
    if (!paths->ascending()) {
      return Fail(fmt::format("{} out of order", base::Quote(*path)));
    }
    return true;
  }
  bool Fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    return false;
  }
  bool at_end() const { return in_.empty(); }
  const std::string& why() const { return why_; }

 private:
  std::string_view in_;
  std::string why_;
};

}  // namespace

CachedHash CachedHash::Of(const struct stat& st, const Digest& sha256, uint64_t verified) {
  CachedHash h;
  h.inode = static_cast<uint64_t>(st.st_ino);
  h.size = static_cast<uint64_t>(st.st_size);
  h.mtime_ns = Ns(st.st_mtim);
  h.ctime_ns = Ns(st.st_ctim);
  h.sha256 = sha256;
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
  return fmt::format("{}/hashcache/{}{}", state_dir, sha.HexDigest().substr(0, 32), kSuffix);
}

base::Result<HashCache> HashCache::Load(const std::string& path) {
  // Save removes the older form, so where it is, an older agent wrote it
  // after this form was last saved: it is the newer.
  auto missing = [](const base::Result<std::string>& r) {
    return !r.ok() && r.status().code() == base::Code::kNotFound;
  };
  std::string from = LegacyPathOf(path);
  base::Result<std::string> bytes =
      from.empty() ? base::Status::NotFound(path) : base::ReadFile(from, kMaxCacheBytes);
  if (missing(bytes)) {
    from = path;
    bytes = base::ReadFile(from, kMaxCacheBytes);
  }
  if (missing(bytes)) return HashCache();
  if (!bytes.ok()) return bytes.status();
  if (!bytes->starts_with(kMagic)) return LoadLegacy(*bytes, from);
  base::Result<HashCache> cache = Parse(*bytes);
  if (!cache.ok()) {
    return Status::Corruption(
        fmt::format("{}: malformed hash cache: {}", from, cache.status().message()));
  }
  return cache;
}

base::Result<HashCache> HashCache::Parse(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 8) return Status::Invalid("cut short");
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  if (base::GetBigEndian(bytes.data() + body.size(), 8) != Checksum(body))
    return Status::Invalid("its checksum does not match");
  CacheReader in(body.substr(kMagic.size()));
  HashCache cache;
  uint64_t version = 0, flags = 0, files = 0, others = 0;
  Rotation& r = cache.rotation_;
  if (!in.Varint(&version)) return Status::Invalid(in.why());
  if (version != kVersion) return Status::Invalid(fmt::format("version {}", version));
  if (!in.Varint(&flags) || !in.Varint(&r.pass) || !in.Varint(&r.cycle_start) ||
      !in.Varint(&r.done_start) || !in.Varint(&r.done_end) || !in.Signed(&r.done_end_ms) ||
      !in.Varint(&files)) {
    return Status::Invalid(in.why());
  }
  cache.full_baseline_ = (flags & kFullBaseline) != 0;
  // Each record takes at least 10 bytes: a count beyond that is refused
  // below, as cut short, after reserving no more than the file could fill.
  cache.files_.reserve(std::min<uint64_t>(files, body.size() / 10));
  PathDecoder paths;
  std::string path;
  for (uint64_t i = 0; i < files; ++i) {
    CachedHash h;
    uint8_t digest = 0;
    std::string_view raw;
    if (!in.Path(&paths, &path) || !in.Varint(&h.inode) || !in.Varint(&h.size) ||
        !in.Signed(&h.mtime_ns) || !in.Signed(&h.ctime_ns) || !in.Byte(&digest) ||
        ((digest != 0 && digest != kDigestBytes) && !in.Fail("a digest of another length")) ||
        !in.Bytes(digest, &raw) || !in.Varint32(&h.mode) || !in.Varint32(&h.uid) ||
        !in.Varint32(&h.gid) || !in.Varint(&h.verified)) {
      return Status::Invalid(fmt::format("file {}: {}", i + 1, in.why()));
    }
    h.sha256 = Digest::FromBytes(raw);
    // In path order, checked: each goes at the end, without a search.
    cache.Put(path, h);
  }
  if (!in.Varint(&others)) return Status::Invalid(in.why());
  PathDecoder other_paths;
  for (uint64_t i = 0; i < others; ++i) {
    CachedOther o;
    uint8_t type = 0;
    uint64_t target = 0;
    std::string_view raw;
    if (!in.Path(&other_paths, &path) || !in.Byte(&type) ||
        ((type != 'd' && type != 'l') && !in.Fail("an unknown type")) || !in.Varint32(&o.mode) ||
        !in.Varint32(&o.uid) || !in.Varint32(&o.gid) || !in.Varint(&target) ||
        !in.Bytes(target, &raw)) {
      return Status::Invalid(fmt::format("directory or symlink {}: {}", i + 1, in.why()));
    }
    o.type = static_cast<NodeType>(type);
    o.link_target.assign(raw);
    cache.others_.emplace_hint(cache.others_.end(), path, std::move(o));
  }
  if (!in.at_end()) return Status::Invalid("bytes after its end");
  cache.paths_.shrink_to_fit();  // held for the whole restore
  cache.present_ = true;
  return cache;
}

base::Result<HashCache> HashCache::LoadLegacy(const std::string& bytes, const std::string& path) {
  HashCache cache;
  nlohmann::json j = nlohmann::json::from_cbor(bytes, true, false);
  auto bad = [&] { return Status::Corruption(fmt::format("{}: malformed hash cache", path)); };
  if (j.is_discarded() || !j.is_object()) return bad();
  const int version = j.value("version", 0);
  if (version != 1 && version != 2) return bad();
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
    h.sha256 = Digest::FromHex(e[5].get_ref<const std::string&>());
    if (version > 1) {
      for (size_t i = 6; i < 10; ++i) {
        if (!e[i].is_number_unsigned()) return bad();
      }
      h.mode = e[6].get<uint32_t>();
      h.uid = e[7].get<uint32_t>();
      h.gid = e[8].get<uint32_t>();
      h.verified = e[9].get<uint64_t>();
    }
    cache.Put(e[0].get_ref<const std::string&>(), h);
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
  cache.older_form_ = true;
  return cache;
}

namespace {

// A cache file's bytes, handed on in pieces of about kPieceBytes as they
// are made, the checksum kept as they go: a large cache is never held
// whole a second time.
class PieceOut {
 public:
  static constexpr size_t kPieceBytes = 256 << 10;

  explicit PieceOut(const base::PieceWriter& write)
      : write_(write), sum_(XXH3_createState(), &XXH3_freeState) {
    XXH3_64bits_reset(sum_.get());
    bytes_.reserve(kPieceBytes + 8192);
  }
  std::vector<uint8_t>* bytes() { return &bytes_; }
  // After each record: hands the piece on once it is large enough.
  Status RecordDone() { return bytes_.size() >= kPieceBytes ? Flush() : Status::Ok(); }
  // The rest, then the checksum of everything.
  Status Finish() {
    SB_RETURN_IF_ERROR(Flush());
    std::string sum;
    base::PutBigEndian(&sum, XXH3_64bits_digest(sum_.get()), 8);
    return write_(sum);
  }

 private:
  Status Flush() {
    XXH3_64bits_update(sum_.get(), bytes_.data(), bytes_.size());
    Status written = write_(CharsOf(bytes_));
    bytes_.clear();
    return written;
  }

  const base::PieceWriter& write_;
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> sum_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

Status HashCache::SerializeTo(const base::PieceWriter& write) const {
  Sort();
  PieceOut piece(write);
  std::vector<uint8_t>* out = piece.bytes();
  out->insert(out->end(), kMagic.begin(), kMagic.end());
  PutVarint(kVersion, out);
  PutVarint(full_baseline_ ? kFullBaseline : 0, out);
  for (uint64_t v : {rotation_.pass, rotation_.cycle_start, rotation_.done_start,
                     rotation_.done_end, ZigZag(rotation_.done_end_ms)}) {
    PutVarint(v, out);
  }
  PutVarint(files_.size(), out);
  PathEncoder paths;
  for (const Slot& slot : files_) {
    const CachedHash& h = slot.hash;
    paths.Put(PathOf(slot), out);
    PutVarint(h.inode, out);
    PutVarint(h.size, out);
    PutVarint(ZigZag(h.mtime_ns), out);
    PutVarint(ZigZag(h.ctime_ns), out);
    const std::string_view digest = h.sha256.bytes();
    out->push_back(static_cast<uint8_t>(digest.size()));
    out->insert(out->end(), digest.begin(), digest.end());
    for (uint64_t v : {uint64_t{h.mode}, uint64_t{h.uid}, uint64_t{h.gid}, h.verified}) {
      PutVarint(v, out);
    }
    SB_RETURN_IF_ERROR(piece.RecordDone());
  }
  PutVarint(others_.size(), out);
  paths.Reset();
  for (const auto& [p, o] : others_) {
    paths.Put(p, out);
    out->push_back(static_cast<uint8_t>(o.type));
    for (uint64_t v :
         {uint64_t{o.mode}, uint64_t{o.uid}, uint64_t{o.gid}, uint64_t{o.link_target.size()}}) {
      PutVarint(v, out);
    }
    out->insert(out->end(), o.link_target.begin(), o.link_target.end());
    SB_RETURN_IF_ERROR(piece.RecordDone());
  }
  return piece.Finish();
}

std::vector<uint8_t> HashCache::Serialize() const {
  std::vector<uint8_t> out;
  // Appending to memory cannot fail.
  (void)SerializeTo([&](std::string_view bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return Status::Ok();
  });
  return out;
}

base::Status HashCache::Save(const std::string& path) const {
  SB_RETURN_IF_ERROR(base::MakeDirectories(path.substr(0, path.rfind('/')), 0700));
  SB_RETURN_IF_ERROR(base::WriteFileAtomically(
      path, [&](const base::PieceWriter& write) { return SerializeTo(write); }, 0600));
  // A cache of the version before, left by an agent before this one, would
  // otherwise be read again should this one be removed.
  if (std::string legacy = LegacyPathOf(path); !legacy.empty()) return RemoveFile(legacy);
  return Status::Ok();
}

base::Status HashCache::Remove(const std::string& path) {
  SB_RETURN_IF_ERROR(RemoveFile(path));
  if (std::string legacy = LegacyPathOf(path); !legacy.empty()) return RemoveFile(legacy);
  return Status::Ok();
}

base::Status HashCache::RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(path, errno);
  return Status::Ok();
}

size_t HashCache::IndexOf(std::string_view path) const {
  Sort();
  auto it = std::lower_bound(files_.begin(), files_.end(), path,
                             [&](const Slot& s, std::string_view p) { return PathOf(s) < p; });
  return it != files_.end() && PathOf(*it) == path ? static_cast<size_t>(it - files_.begin())
                                                   : files_.size();
}

const CachedHash* HashCache::Find(std::string_view path) const {
  size_t i = 0;
  return Find(path, &i);
}

const CachedHash* HashCache::Find(std::string_view path, size_t* index) const {
  const size_t i = IndexOf(path);
  if (i == files_.size()) return nullptr;
  *index = i;
  return &files_[i].hash;
}

CachedHash* HashCache::FindMutable(std::string_view path) {
  const size_t i = IndexOf(path);
  return i == files_.size() ? nullptr : &files_[i].hash;
}

void HashCache::Put(std::string_view path, CachedHash hash) {
  // In order (a load, a walk in path order): at the end. A path there
  // already: in its place. Anything else: at the end, sorted when next
  // looked at.
  if (sorted_ && !files_.empty() && path <= PathOf(files_.back())) {
    if (const size_t i = IndexOf(path); i != files_.size()) {
      files_[i].hash = hash;
      return;
    }
    sorted_ = false;
  }
  files_.push_back({paths_.size(), static_cast<uint32_t>(path.size()), hash});
  paths_.append(path);
}

void HashCache::Erase(std::string_view path) {
  if (const size_t i = IndexOf(path); i != files_.size()) {
    files_.erase(files_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void HashCache::KeepOnly(const std::vector<bool>& keep) {
  Sort();
  size_t kept = 0;
  uint64_t kept_bytes = 0;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (i >= keep.size() || !keep[i]) continue;
    kept_bytes += files_[i].path_size;
    files_[kept++] = files_[i];
  }
  files_.resize(kept);
  // The dropped files' paths stay in paths_ unless they are most of it.
  if (kept_bytes >= paths_.size() / 2) return;
  std::string paths;
  paths.reserve(kept_bytes);
  for (Slot& slot : files_) {
    const uint64_t at = paths.size();
    paths.append(PathOf(slot));
    slot.path_at = at;
  }
  paths_ = std::move(paths);
}

void HashCache::Absorb(HashCache&& other) {
  for (const auto& [path, hash] : other.files()) Put(path, hash);
  others_ = std::move(other.others_);
  full_baseline_ = other.full_baseline_;
  other = HashCache();
}

void HashCache::Sort() const {
  if (sorted_) return;
  // Paths are appended as files are put, so of two slots with one path the
  // later put has the later path_at: sorted by both, in place (a stable
  // sort would take a buffer half the size of the cache).
  std::sort(files_.begin(), files_.end(), [&](const Slot& a, const Slot& b) {
    const int c = PathOf(a).compare(PathOf(b));
    return c != 0 ? c < 0 : a.path_at < b.path_at;
  });
  // Of equal paths, the one put last wins.
  auto last = std::unique(files_.rbegin(), files_.rend(),
                          [&](const Slot& a, const Slot& b) { return PathOf(a) == PathOf(b); });
  files_.erase(files_.begin(), last.base());
  sorted_ = true;
}

bool HashCache::SameEntries(const HashCache& other) const {
  Sort();
  other.Sort();
  return std::equal(files_.begin(), files_.end(), other.files_.begin(), other.files_.end(),
                    [&](const Slot& a, const Slot& b) {
                      return PathOf(a) == other.PathOf(b) && a.hash == b.hash;
                    });
}

}  // namespace sb::sync
