#include "agent/sync/manifest_codec.h"

#include <fmt/format.h>

#include "agent/sync/path.h"

namespace sb::sync {
namespace {

// Digests travel as 32 raw bytes (a CBOR byte string), half of their hex.
nlohmann::json DigestBytes(const std::string& hex) {
  std::vector<uint8_t> bytes;
  bytes.reserve(hex.size() / 2);
  auto nibble = [](char c) {
    return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return nlohmann::json::binary(std::move(bytes));
}

// The hex form back; false unless it is empty or 32 bytes.
bool DigestHex(const nlohmann::json& j, std::string* hex) {
  if (!j.is_binary()) return false;
  const std::vector<uint8_t>& bytes = j.get_binary();
  if (!bytes.empty() && bytes.size() != 32) return false;
  static constexpr char kHex[] = "0123456789abcdef";
  hex->clear();
  for (uint8_t b : bytes) {
    hex->push_back(kHex[b >> 4]);
    hex->push_back(kHex[b & 15]);
  }
  return true;
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
  if (!DigestHex(j[4], &e.sha256)) {
    return base::Status::Invalid("manifest entry with a digest that is not 32 bytes");
  }
  const std::string type = j[0].get<std::string>();
  if (type == "f") {
    e.type = NodeType::kFile;
  } else if (type == "d") {
    e.type = NodeType::kDirectory;
  } else if (type == "l") {
    e.type = NodeType::kSymlink;
  } else {
    return base::Status::Invalid(fmt::format("manifest entry of unknown type \"{}\"", type));
  }
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
