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
  if (!e.previous_sha256.empty()) j.push_back(DigestBytes(e.previous_sha256));
  return j;
}

base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j) {
  if (!j.is_array() || (j.size() != 7 && j.size() != 8) || !j[0].is_string() ||
      !j[1].is_number_unsigned() || !j[2].is_number_integer() || !j[3].is_number_unsigned() ||
      !j[5].is_string() || !j[6].is_string()) {
    return base::Status::Invalid("malformed manifest entry");
  }
  ManifestEntry e;
  if (!DigestHex(j[4], &e.sha256) || (j.size() == 8 && !DigestHex(j[7], &e.previous_sha256))) {
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

}  // namespace sb::sync
