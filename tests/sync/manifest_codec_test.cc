// Manifest entries from the network, in both forms (a CBOR array per entry,
// and the record stream): what the agent sends decodes back, and malformed
// entries or paths are refused.

#include "agent/sync/manifest_codec.h"

#include <fmt/format.h>
#include <catch2/catch.hpp>

namespace sb::sync {
namespace {

TEST_CASE("manifest codec: entries survive the wire", "[codec]") {
  for (const ManifestEntry& e :
       {ManifestEntry{"www/index.html", NodeType::kFile, 0644, 1700000000, 15,
                      Digest::FromHex(std::string(64, 'a')), ""},
        ManifestEntry{"www", NodeType::kDirectory, 0755, 1, 0, {}, ""},
        ManifestEntry{"current", NodeType::kSymlink, 0777, 2, 0, {}, "releases/2"}}) {
    base::Result<ManifestEntry> back = DecodeEntry(EncodeEntry(e));
    REQUIRE(back.ok());
    CHECK(*back == e);
  }
}

// The lines and the digest are a contract between versions: a controller
// compares its digest with an agent's, which may be older or newer.
TEST_CASE("manifest: lines and digests are what every version computes", "[codec]") {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "ab";
  std::vector<ManifestEntry> entries = {
      {"www/index.html", NodeType::kFile, 0644, 1700000000, 15, Digest::FromHex(hex), ""},
      {"www", NodeType::kDirectory, 0755, -1, 0, {}, ""},
      {"current", NodeType::kSymlink, 0777, 2, 0, {}, "releases/2"}};
  CHECK(ManifestLine(entries[0]) == "f 0644 1700000000 15 64:" + hex + " 14:www/index.html\n");
  CHECK(ManifestLine(entries[1]) == "d 0755 -1 0 0: 3:www\n");
  CHECK(ManifestLine(entries[2]) == "l 0777 2 0 10:releases/2 7:current\n");
  // sha256 of the three lines in path order, as Python's hashlib gives it.
  CHECK(ManifestDigest(entries) ==
        "2217e7545041700d9918feba2345c9567e2e0600949d9433e1e87497c07a2192");
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

// Reads all of `bytes`; the entries, or the first error.
base::Result<std::vector<ManifestEntry>> ReadAll(std::string_view bytes) {
  RecordReader reader(bytes);
  std::vector<ManifestEntry> out;
  for (;;) {
    ManifestEntry e;
    base::Result<bool> next = reader.Next(&e);
    if (!next.ok()) return next.status();
    if (!*next) return out;
    out.push_back(std::move(e));
  }
}

// Entries of every kind and edge: shared prefixes long and none, times
// before 1970 and far ahead, sizes past 32 bits, a file with no digest.
std::vector<ManifestEntry> EdgeEntries() {
  std::string digest;
  for (int i = 0; i < 32; ++i) digest += fmt::format("{:02x}", i * 7 + 1);
  return {
      {"a", NodeType::kDirectory, 0755, 0, 0, {}, ""},
      {"a/b", NodeType::kDirectory, 07777, -1, 0, {}, ""},
      {"a/b/c.txt", NodeType::kFile, 0644, 1700000000, 15, Digest::FromHex(digest), ""},
      {"a/b/c.txt2", NodeType::kFile, 0600, -2208988800, uint64_t{5} << 40, {}, ""},
      {"a/b/current", NodeType::kSymlink, 0777, INT64_MAX, 0, {}, "../../releases/2"},
      {"a/b" + std::string(250, 'x'), NodeType::kFile, 0, INT64_MIN, UINT64_MAX,
       Digest::FromHex(digest), ""},
      {"z", NodeType::kSymlink, 0777, 5, 0, {}, std::string(4095, 't')},
  };
}

TEST_CASE("manifest records: entries survive the wire, batch by batch", "[codec]") {
  const std::vector<ManifestEntry> entries = EdgeEntries();
  RecordWriter writer;
  for (const ManifestEntry& e : entries) writer.Add(e);
  const std::vector<uint8_t> all = writer.Take();
  base::Result<std::vector<ManifestEntry>> back = ReadAll(CharsOf(all));
  REQUIRE(back.ok());
  CHECK(*back == entries);
  CHECK(writer.empty());
  // Batches taken apart read on their own.
  std::vector<ManifestEntry> joined;
  for (size_t i = 0; i < entries.size(); ++i) {
    writer.Add(entries[i]);
    if (i % 2 == 1 || i + 1 == entries.size()) {
      base::Result<std::vector<ManifestEntry>> part = ReadAll(CharsOf(writer.Take()));
      REQUIRE(part.ok());
      joined.insert(joined.end(), part->begin(), part->end());
    }
  }
  CHECK(joined == entries);
  // An empty batch holds no entries.
  base::Result<std::vector<ManifestEntry>> none = ReadAll("");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("manifest records: a sorted tree costs its names, digests and a few bytes", "[codec]") {
  RecordWriter writer;
  const std::string digest(64, 'e');
  for (int d = 0; d < 10; ++d) {
    for (int f = 0; f < 100; ++f) {
      // Paths of 44 bytes, of which each differs from the one before in 2-6.
      writer.Add({fmt::format("src/a/deep/directory/of/module{}/file{:03}.cc", d, f),
                  NodeType::kFile, 0644, 1700000000 + f, 1000 + uint64_t(f),
                  Digest::FromHex(digest), ""});
    }
  }
  // Per file: digest 32, what the path does not share (up to 6), its two
  // lengths, type, mode 2, time 5, size 2, digest length: at most 50.
  CHECK(writer.size() <= size_t{1000} * 50);
  CHECK(writer.size() > size_t{1000} * 32);
}

TEST_CASE("manifest records: every cut and bad record is refused with the reason", "[codec]") {
  RecordWriter writer;
  for (const ManifestEntry& e : EdgeEntries()) writer.Add(e);
  const std::vector<uint8_t> all = writer.Take();
  const std::string_view whole = CharsOf(all);
  // Cut anywhere inside a record, the stream fails; never crashes or reads on.
  size_t refused = 0;
  for (size_t n = 1; n < whole.size(); ++n) {
    base::Result<std::vector<ManifestEntry>> r = ReadAll(whole.substr(0, n));
    if (!r.ok()) {
      ++refused;
      CHECK(r.status().message().find("manifest") != std::string::npos);
    }
  }
  // Only the cuts between records read (as fewer entries).
  CHECK(refused == whole.size() - 1 - (EdgeEntries().size() - 1));

  using namespace std::string_literals;
  struct Row {
    const char* what;
    std::string bytes;
    const char* message;
  } rows[] = {
      // Literals are split where a hex escape would run on into a name.
      {"shares more than there was",
       "\x02\x01"
       "ad\x00\x00"s,
       "malformed manifest record after \"\": shares more than the previous path"},
      {"unknown type",
       "\x00\x03"
       "devc\x00\x00"s,
       "malformed manifest record \"dev\": unknown type"},
      {"mode past 07777",
       "\x00\x01"
       "ad\x80\x20\x00"s,
       "malformed manifest record \"a\": mode 10000"},
      {"a digest of 5 bytes",
       "\x00\x01"
       "af\x00\x00\x00\x05"
       "abcde"s,
       "malformed manifest record \"a\": a digest of 5 bytes"},
      {"a varint of 11 bytes",
       "\x00\x01"
       "ad\x00"s +
           std::string(10, '\xff') + "\x01",
       "malformed manifest record \"a\": cut short"},
      {"a varint past 64 bits",
       "\x00\x01"
       "ad\x00"s +
           std::string(9, '\xff') + "\x02",
       "malformed manifest record \"a\": cut short"},
      {"path too long", "\x00\x80\x20"s + std::string(4096, 'a') + "d\x00\x00"s,
       "malformed manifest record after \"\": path too long"},
      {"a path longer than what is left",
       "\x00\x05"
       "ab"s,
       "malformed manifest record after \"\": path cut short"},
      {"absolute path", "\x00\x0b/etc/passwdf\x00\x00\x00\x00"s,
       "manifest entry \"/etc/passwd\": absolute path"},
      {"climbing by the shared prefix",
       "\x00\x01"
       "ad\x00\x00\x01\x06/../..d\x00\x00"s,
       "manifest entry \"a/../..\": path climbs out with \"..\""},
      {"NUL in a name",
       "\x00\x03"
       "a\0"
       "bd\x00\x00"s,
       "manifest entry \"a\\x00b\": path contains a NUL byte"},
      {"empty symlink target",
       "\x00\x01"
       "al\x00\x00\x00"s,
       "manifest entry \"a\": symlink without a target"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    base::Result<std::vector<ManifestEntry>> e = ReadAll(r.bytes);
    REQUIRE_FALSE(e.ok());
    CHECK(e.status().message() == r.message);
  }
}

TEST_CASE("manifest records: directories' digests survive the wire, the root's too", "[codec]") {
  const std::vector<ManifestEntry> tree = EdgeEntries();
  const std::vector<DirectoryDigest> dirs = DirectoryDigests(tree);
  REQUIRE(dirs.size() == 3);  // "", a, a/b
  RecordWriter writer;
  for (const DirectoryDigest& d : dirs) writer.AddDirectory(d);
  const std::vector<uint8_t> bytes = writer.Take();
  RecordReader reader(CharsOf(bytes));
  std::vector<DirectoryDigest> back;
  for (;;) {
    DirectoryDigest d;
    base::Result<bool> next = reader.NextDirectory(&d);
    REQUIRE(next.ok());
    if (!*next) break;
    back.push_back(d);
  }
  CHECK(back == dirs);
  // Neither kind of record reads as the other.
  base::Result<std::vector<ManifestEntry>> as_entries = ReadAll(CharsOf(bytes));
  REQUIRE_FALSE(as_entries.ok());
  CHECK(as_entries.status().message() == "manifest entry \"\": empty path");
  writer.Add(tree[0]);
  const std::vector<uint8_t> entry = writer.Take();
  DirectoryDigest d;
  base::Result<bool> as_dir = RecordReader(CharsOf(entry)).NextDirectory(&d);
  REQUIRE_FALSE(as_dir.ok());
  CHECK(as_dir.status().message() == "malformed directory record \"a\": not a directory's digest");
  // Cut short by a byte: the last digest fails.
  RecordReader cut(CharsOf(bytes).substr(0, bytes.size() - 1));
  base::Result<bool> next = true;
  for (int i = 0; i < 4 && next.ok() && *next; ++i) next = cut.NextDirectory(&d);
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().message() == "malformed directory record \"a/b\": cut short");
}

TEST_CASE("manifest records: indices travel as gaps, and out of range is refused", "[codec]") {
  const std::vector<size_t> indices = {0, 1, 2, 131, 132, 100000};  // gap 128: 2 bytes
  const std::vector<uint8_t> bytes = EncodeIndices(indices);
  CHECK(bytes.size() == 1 + 1 + 1 + 2 + 1 + 3);
  base::Result<std::vector<size_t>> back = DecodeIndices(CharsOf(bytes), 100001);
  REQUIRE(back.ok());
  CHECK(*back == indices);
  base::Result<std::vector<size_t>> over = DecodeIndices(CharsOf(bytes), 100000);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().message() == "index 100000 out of range (there are 100000)");
  base::Result<std::vector<size_t>> cut = DecodeIndices("\x80", 10);
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.status().message() == "malformed list of indices");
  CHECK(DecodeIndices("", 0)->empty());
}

TEST_CASE("manifest records: a list of directories must begin at the root, in path order",
          "[codec]") {
  auto list = [](std::vector<std::string> paths) {
    std::vector<DirectoryDigest> dirs;
    dirs.reserve(paths.size());
    for (std::string& p : paths) dirs.push_back({std::move(p), 0, ""});
    return dirs;
  };
  CHECK(CheckDirectoryList(list({"", "a", "a/b", "b"})).ok());
  CHECK(CheckDirectoryList(list({})).message() ==
        "a list of directories that does not begin with the root");
  CHECK(CheckDirectoryList(list({"a", ""})).message() ==
        "a list of directories that does not begin with the root");
  CHECK(CheckDirectoryList(list({"", "b", "a"})).message() ==
        "a list of directories out of order: \"a\" after \"b\"");
  CHECK(CheckDirectoryList(list({"", "a", "a"})).message() ==
        "a list of directories out of order: \"a\" after \"a\"");
}

}  // namespace
}  // namespace sb::sync
