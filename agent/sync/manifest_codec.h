// Manifest entries on the wire, checked when decoded (the path above all).
// Two forms: a CBOR array per entry [type, mode, mtime, size, sha256, link
// target, path], digests as 32-byte byte strings, which older controllers
// read; and a record stream (RecordWriter, RecordReader), written and read
// one entry at a time with no JSON tree per entry and paths coded against
// the one before. Pure functions and values; thread-compatible.

#ifndef AGENT_SYNC_MANIFEST_CODEC_H_
#define AGENT_SYNC_MANIFEST_CODEC_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/base/status.h"
#include "agent/sync/drift.h"
#include "agent/sync/manifest.h"
#include "agent/sync/record_bytes.h"
#include "agent/sync/reverify.h"

namespace sb::sync {

nlohmann::json EncodeEntry(const ManifestEntry& entry);
base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j);

// The record stream. Each record:
//   varint  bytes of its path shared with the previous record's (0 first)
//   varint  length of the rest of the path, then those bytes
//   byte    type: 'f', 'd' or 'l'
//   varint  mode (permission bits)
//   varint  mtime in seconds, zigzag-coded (negative times are small too)
//   files:    varint size, byte digest length (0 or 32), the digest's bytes
//   symlinks: varint length of the target, then its bytes
// Varints are LEB128: 7 bits a byte, low first. Sorted paths share most of
// their bytes, so an entry of a deep tree costs about its name, its digest
// and a few bytes. A directory's digest (DirectoryDigest) is a record too:
// its path ("" for the root), the byte 'D', varint children, 32 bytes.

class RecordWriter {
 public:
  void Add(const ManifestEntry& entry);
  void AddDirectory(const DirectoryDigest& digest);
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // The records so far; the writer starts afresh (its next record shares
  // nothing), so each batch taken reads on its own.
  std::vector<uint8_t> Take();

 private:
  void Varint(uint64_t v);
  std::vector<uint8_t> bytes_;
  PathEncoder paths_;
};

class RecordReader {
 public:
  // `bytes` must outlive the reader.
  explicit RecordReader(std::string_view bytes) : in_(bytes) {}
  // The next entry into *entry: false at the end. A record that is cut
  // short, malformed, or whose path or symlink target fails the checks of
  // sync/path.h is an error naming it.
  base::Result<bool> Next(ManifestEntry* entry);
  // The same for a stream of directories' digests.
  base::Result<bool> NextDirectory(DirectoryDigest* digest);

 private:
  bool Varint(uint64_t* v);
  // A record's path into *path, checked; the root ("") only when `root`.
  base::Status Path(std::string* path, bool root);
  std::string_view in_;
  PathDecoder paths_;
};

// A list of directories' digests as a scan by directory must send it: the
// root's first, then strictly in path order (what DirectoriesToRead and
// the rebuilt target rely on). The error says where it is not.
base::Status CheckDirectoryList(const std::vector<DirectoryDigest>& dirs);

// Ascending indices (into a list both sides hold), as varints of the gaps
// between them: a few bytes however long the paths they stand for.
std::vector<uint8_t> EncodeIndices(const std::vector<size_t>& ascending);
// Each below `limit`, or an error.
base::Result<std::vector<size_t>> DecodeIndices(std::string_view bytes, size_t limit);

// A drift item: [kind, path, detail].
nlohmann::json EncodeDrift(const Drift& drift);
base::Result<Drift> DecodeDrift(const nlohmann::json& j);

// What a verifying scan re-read (without read_paths, which stay on the
// agent): an object of named fields.
nlohmann::json EncodeVerifyReport(const VerifyReport& report);
base::Result<VerifyReport> DecodeVerifyReport(const nlohmann::json& j);

}  // namespace sb::sync

#endif  // AGENT_SYNC_MANIFEST_CODEC_H_
