#include "agent/sync/manifest_codec.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "agent/base/quote.h"
#include "agent/sync/path.h"
#include "agent/sync/record_bytes.h"

namespace sb::sync {
namespace {

// The type byte of a directory's digest (not a NodeType).
constexpr uint8_t kDirectoryDigestType = 'D';

nlohmann::json DigestBytes(const Digest& d) {
  const std::string_view raw = d.bytes();
  return nlohmann::json::binary(std::vector<uint8_t>(raw.begin(), raw.end()));
}

// The digest back; false unless it is empty (none) or 32 bytes.
bool DigestOf(const nlohmann::json& j, Digest* d) {
  if (!j.is_binary()) return false;
  const std::vector<uint8_t>& bytes = j.get_binary();
  if (!bytes.empty() && bytes.size() != kDigestBytes) return false;
  *d = Digest::FromBytes(CharsOf(bytes));
  return true;
}

std::optional<NodeType> TypeOf(char c) {
  switch (c) {
    case 'f':
      return NodeType::kFile;
    case 'd':
      return NodeType::kDirectory;
    case 'l':
      return NodeType::kSymlink;
    default:
      return std::nullopt;
  }
}

// "malformed KIND PATH: WHAT", the path quoted.
base::Status Malformed(std::string_view kind, std::string_view path, std::string_view what) {
  return base::Status::Invalid(fmt::format("malformed {} {}: {}", kind, base::Quote(path), what));
}

}  // namespace

nlohmann::json EncodeEntry(const ManifestEntry& e) {
  nlohmann::json j =
      nlohmann::json::array({std::string(1, static_cast<char>(e.type)), e.mode, e.mtime_s, e.size,
                             DigestBytes(e.sha256), e.link_target, e.path});
  return j;
}

base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 7 || !j[0].is_string() || !j[1].is_number_unsigned() ||
      !j[2].is_number_integer() || !j[3].is_number_unsigned() || !j[5].is_string() ||
      !j[6].is_string()) {
    return base::Status::Invalid("malformed manifest entry");
  }
  ManifestEntry e;
  if (!DigestOf(j[4], &e.sha256)) {
    return base::Status::Invalid("manifest entry with a digest that is not 32 bytes");
  }
  const std::string& type = j[0].get_ref<const std::string&>();
  std::optional<NodeType> t = type.size() == 1 ? TypeOf(type[0]) : std::nullopt;
  if (!t) return base::Status::Invalid(fmt::format("manifest entry of unknown type \"{}\"", type));
  e.type = *t;
  e.mode = j[1].get<uint32_t>() & 07777;
  e.mtime_s = j[2].get<int64_t>();
  e.size = j[3].get<uint64_t>();
  e.link_target = j[5].get<std::string>();
  e.path = j[6].get<std::string>();
  base::Status path = CheckRelativePath(e.path);
  if (!path.ok()) {
    return base::Status::Invalid(fmt::format("manifest entry \"{}\": {}", e.path, path.message()));
  }
  return e;
}

void RecordWriter::Varint(uint64_t v) { PutVarint(v, &bytes_); }

void RecordWriter::Add(const ManifestEntry& e) {
  paths_.Put(e.path, &bytes_);
  bytes_.push_back(static_cast<uint8_t>(e.type));
  Varint(e.mode & 07777);
  Varint(ZigZag(e.mtime_s));
  if (e.type == NodeType::kFile) {
    Varint(e.size);
    const std::string_view digest = e.sha256.bytes();
    bytes_.push_back(static_cast<uint8_t>(digest.size()));
    bytes_.insert(bytes_.end(), digest.begin(), digest.end());
  } else if (e.type == NodeType::kSymlink) {
    Varint(e.link_target.size());
    bytes_.insert(bytes_.end(), e.link_target.begin(), e.link_target.end());
  }
}

void RecordWriter::AddDirectory(const DirectoryDigest& d) {
  paths_.Put(d.path, &bytes_);
  bytes_.push_back(kDirectoryDigestType);
  Varint(d.children);
  const Digest digest = Digest::FromHex(d.sha256);
  const std::string_view raw = digest.bytes();
  bytes_.insert(bytes_.end(), raw.begin(), raw.end());
}

std::vector<uint8_t> RecordWriter::Take() {
  paths_.Reset();
  return std::exchange(bytes_, {});
}

bool RecordReader::Varint(uint64_t* v) { return GetVarint(&in_, v); }

base::Status RecordReader::Path(std::string* path, bool root) {
  // Before its path is whole, a bad record is named by the path before it.
  auto bad = [&](std::string_view what) {
    return Malformed("manifest record after", paths_.previous(), what);
  };
  switch (paths_.Get(&in_, kMaxPathBytes, path)) {
    case PathDecoder::Result::kOk:
      break;
    case PathDecoder::Result::kCutShort:
      return bad("path cut short");
    case PathDecoder::Result::kSharesTooMuch:
      return bad("shares more than the previous path");
    case PathDecoder::Result::kTooLong:
      return bad("path too long");
  }
  if (!(root && path->empty())) {
    if (base::Status checked = CheckRelativePath(*path); !checked.ok()) {
      return base::Status::Invalid(
          fmt::format("manifest entry {}: {}", base::Quote(*path), checked.message()));
    }
  }
  return base::Status::Ok();
}

base::Result<bool> RecordReader::NextDirectory(DirectoryDigest* d) {
  if (in_.empty()) return false;
  SB_RETURN_IF_ERROR(Path(&d->path, true));
  if (in_.empty() || static_cast<uint8_t>(in_[0]) != kDirectoryDigestType) {
    return Malformed("directory record", d->path, "not a directory's digest");
  }
  in_.remove_prefix(1);
  if (!Varint(&d->children) || in_.size() < kDigestBytes) {
    return Malformed("directory record", d->path, "cut short");
  }
  d->sha256 = Digest::FromBytes(in_.substr(0, kDigestBytes)).Hex();
  in_.remove_prefix(kDigestBytes);
  return true;
}

base::Result<bool> RecordReader::Next(ManifestEntry* e) {
  if (in_.empty()) return false;
  SB_RETURN_IF_ERROR(Path(&e->path, false));
  auto bad_entry = [&](std::string_view what) {
    return Malformed("manifest record", e->path, what);
  };
  std::optional<NodeType> type = in_.empty() ? std::nullopt : TypeOf(in_[0]);
  if (!type) return bad_entry("unknown type");
  in_.remove_prefix(1);
  e->type = *type;
  uint64_t mode = 0, zigzag = 0;
  if (!Varint(&mode) || !Varint(&zigzag)) return bad_entry("cut short");
  if (mode > 07777) return bad_entry(fmt::format("mode {:o}", mode));
  e->mode = static_cast<uint32_t>(mode);
  e->mtime_s = UnZigZag(zigzag);
  e->size = 0;
  e->sha256 = Digest();
  e->link_target.clear();
  if (e->type == NodeType::kFile) {
    if (!Varint(&e->size) || in_.empty()) return bad_entry("cut short");
    const auto digest = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    if (digest != 0 && digest != kDigestBytes) {
      return bad_entry(fmt::format("a digest of {} bytes", digest));
    }
    if (digest > in_.size()) return bad_entry("cut short");
    e->sha256 = Digest::FromBytes(in_.substr(0, digest));
    in_.remove_prefix(digest);
  } else if (e->type == NodeType::kSymlink) {
    uint64_t len = 0;
    if (!Varint(&len) || len > in_.size()) return bad_entry("cut short");
    e->link_target.assign(in_.substr(0, len));
    in_.remove_prefix(len);
    if (base::Status target = CheckSymlinkTarget(e->link_target); !target.ok()) {
      return base::Status::Invalid(
          fmt::format("manifest entry {}: {}", base::Quote(e->path), target.message()));
    }
  }
  return true;
}

base::Status CheckDirectoryList(const std::vector<DirectoryDigest>& dirs) {
  if (dirs.empty() || !dirs[0].path.empty()) {
    return base::Status::Invalid("a list of directories that does not begin with the root");
  }
  for (size_t i = 1; i < dirs.size(); ++i) {
    if (!(dirs[i - 1].path < dirs[i].path)) {
      return base::Status::Invalid(fmt::format("a list of directories out of order: {} after {}",
                                               base::Quote(dirs[i].path),
                                               base::Quote(dirs[i - 1].path)));
    }
  }
  return base::Status::Ok();
}

std::vector<uint8_t> EncodeIndices(const std::vector<size_t>& indices) {
  std::vector<uint8_t> out;
  uint64_t next = 0;  // the least the next index can be
  for (size_t i : indices) {
    PutVarint(i - next, &out);
    next = i + 1;
  }
  return out;
}

base::Result<std::vector<size_t>> DecodeIndices(std::string_view bytes, size_t limit) {
  std::vector<size_t> out;
  uint64_t next = 0;
  while (!bytes.empty()) {
    uint64_t gap = 0;
    if (!GetVarint(&bytes, &gap)) return base::Status::Invalid("malformed list of indices");
    if (gap >= limit || next + gap >= limit) {
      return base::Status::Invalid(fmt::format("index {} out of range (there are {})",
                                               gap >= limit ? gap : next + gap, limit));
    }
    out.push_back(next + gap);
    next += gap + 1;
  }
  return out;
}

nlohmann::json EncodeDrift(const Drift& d) {
  return nlohmann::json::array({DriftKindName(d.kind), d.path, d.detail});
}

base::Result<Drift> DecodeDrift(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 3 || !j[0].is_string() || !j[1].is_string() ||
      !j[2].is_string()) {
    return base::Status::Invalid("malformed drift item");
  }
  std::optional<DriftKind> kind = DriftKindFromName(j[0].get_ref<const std::string&>());
  if (!kind) {
    return base::Status::Invalid(
        fmt::format("drift item of unknown kind \"{}\"", j[0].get<std::string>()));
  }
  Drift d{*kind, j[1].get<std::string>(), j[2].get<std::string>()};
  base::Status path = CheckRelativePath(d.path);
  if (!path.ok()) {
    return base::Status::Invalid(fmt::format("drift item \"{}\": {}", d.path, path.message()));
  }
  return d;
}

nlohmann::json EncodeVerifyReport(const VerifyReport& r) {
  return {{"pass", r.pass},
          {"reread_files", r.reread_files},
          {"reread_bytes", r.reread_bytes},
          {"cached_files", r.cached_files},
          {"cached_bytes", r.cached_bytes},
          {"due_bytes", r.due_bytes},
          {"stretched", r.stretched},
          {"over_budget", r.over_budget},
          {"too_large_files", r.too_large_files},
          {"never_files", r.never_files},
          {"never_bytes", r.never_bytes},
          {"oldest_pass", r.oldest_pass},
          {"rotation",
           {r.rotation.pass, r.rotation.cycle_start, r.rotation.done_start, r.rotation.done_end,
            r.rotation.done_end_ms}}};
}

base::Result<VerifyReport> DecodeVerifyReport(const nlohmann::json& j) {
  VerifyReport r;
  try {
    r.pass = j.at("pass").get<uint64_t>();
    r.reread_files = j.at("reread_files").get<uint64_t>();
    r.reread_bytes = j.at("reread_bytes").get<uint64_t>();
    r.cached_files = j.at("cached_files").get<uint64_t>();
    r.cached_bytes = j.at("cached_bytes").get<uint64_t>();
    r.due_bytes = j.at("due_bytes").get<uint64_t>();
    r.stretched = j.at("stretched").get<bool>();
    r.over_budget = j.at("over_budget").get<std::string>();
    r.too_large_files = j.at("too_large_files").get<uint64_t>();
    r.never_files = j.at("never_files").get<uint64_t>();
    r.never_bytes = j.at("never_bytes").get<uint64_t>();
    r.oldest_pass = j.at("oldest_pass").get<uint64_t>();
    const nlohmann::json& rot = j.at("rotation");
    if (!rot.is_array() || rot.size() != 5) {
      return base::Status::Invalid("malformed verification report: rotation");
    }
    r.rotation = {rot[0].get<uint64_t>(), rot[1].get<uint64_t>(), rot[2].get<uint64_t>(),
                  rot[3].get<uint64_t>(), rot[4].get<int64_t>()};
  } catch (const nlohmann::json::exception&) {
    return base::Status::Invalid("malformed verification report");
  }
  return r;
}

}  // namespace sb::sync
