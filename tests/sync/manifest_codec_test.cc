// Manifest entries from the network: what the agent sends decodes back, and
// malformed entries or paths are refused.

#include "agent/sync/manifest_codec.h"

#include <catch2/catch.hpp>

namespace sb::sync {
namespace {

TEST_CASE("manifest codec: entries survive the wire", "[codec]") {
  for (const ManifestEntry& e :
       {ManifestEntry{"www/index.html", NodeType::kFile, 0644, 1700000000, 15, std::string(64, 'a'),
                      ""},
        ManifestEntry{"www", NodeType::kDirectory, 0755, 1, 0, "", ""},
        ManifestEntry{"current", NodeType::kSymlink, 0777, 2, 0, "", "releases/2"}}) {
    base::Result<ManifestEntry> back = DecodeEntry(EncodeEntry(e));
    REQUIRE(back.ok());
    CHECK(*back == e);
  }
}

TEST_CASE("manifest codec: malformed entries are refused with the reason", "[codec]") {
  using nlohmann::json;
  struct Row {
    const char* what;
    json entry;
    const char* message;
  } rows[] = {
      {"short digest", json::array({"f", 420u, 1, 0u, json::binary({1, 2, 3}), "", "a"}),
       "manifest entry with a digest that is not 32 bytes"},
      {"hex digest", json::array({"f", 420u, 1, 0u, std::string(64, 'a'), "", "a"}),
       "manifest entry with a digest that is not 32 bytes"},
      // Unsigned literals: CBOR decodes every non-negative number as unsigned.
      {"not an array", json::object(), "malformed manifest entry"},
      {"too short", json::array({"f", 420u, 1, 0u, "", ""}), "malformed manifest entry"},
      {"negative size", json::array({"f", 420u, 1, -5, json::binary({}), "", "a"}),
       "malformed manifest entry"},
      {"unknown type", json::array({"c", 420u, 1, 0u, json::binary({}), "", "dev"}),
       "manifest entry of unknown type \"c\""},
      {"absolute path", json::array({"f", 420u, 1, 0u, json::binary({}), "", "/etc/passwd"}),
       "manifest entry \"/etc/passwd\": absolute path"},
      {"climbing path", json::array({"f", 420u, 1, 0u, json::binary({}), "", "a/../../b"}),
       "manifest entry \"a/../../b\": path climbs out with \"..\""},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    base::Result<ManifestEntry> e = DecodeEntry(r.entry);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message() == r.message);
  }
}

}  // namespace
}  // namespace sb::sync
