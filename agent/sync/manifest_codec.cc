#include "agent/sync/manifest_codec.h"

#include <fmt/format.h>

#include "agent/sync/path.h"

namespace sb::sync {

nlohmann::json EncodeEntry(const ManifestEntry& e) {
  nlohmann::json j = nlohmann::json::array({std::string(1, static_cast<char>(e.type)), e.mode,
                                            e.mtime_s, e.size, e.sha256, e.link_target, e.path});
  if (!e.previous_sha256.empty()) j.push_back(e.previous_sha256);
  return j;
}

base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j) {
  if (!j.is_array() || (j.size() != 7 && j.size() != 8) || (j.size() == 8 && !j[7].is_string()) ||
      !j[0].is_string() || !j[1].is_number_unsigned() || !j[2].is_number_integer() ||
      !j[3].is_number_unsigned() || !j[4].is_string() || !j[5].is_string() || !j[6].is_string()) {
    return base::Status::Invalid("malformed manifest entry");
  }
  ManifestEntry e;
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
  e.sha256 = j[4].get<std::string>();
  e.link_target = j[5].get<std::string>();
  e.path = j[6].get<std::string>();
  if (j.size() == 8) e.previous_sha256 = j[7].get<std::string>();
  base::Status path = CheckRelativePath(e.path);
  if (!path.ok()) {
    return base::Status::Invalid(fmt::format("manifest entry \"{}\": {}", e.path, path.message()));
  }
  return e;
}

}  // namespace sb::sync
