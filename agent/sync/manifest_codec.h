// Manifest entries on the wire: each a CBOR array [type, mode, mtime, size,
// sha256, link target, path], digests as 32-byte byte strings, checked when decoded (the path above
// all). Pure; thread-safe.

#ifndef AGENT_SYNC_MANIFEST_CODEC_H_
#define AGENT_SYNC_MANIFEST_CODEC_H_

#include <nlohmann/json.hpp>

#include "agent/base/status.h"
#include "agent/sync/drift.h"
#include "agent/sync/manifest.h"
#include "agent/sync/reverify.h"

namespace sb::sync {

nlohmann::json EncodeEntry(const ManifestEntry& entry);
base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j);

// A drift item: [kind, path, detail].
nlohmann::json EncodeDrift(const Drift& drift);
base::Result<Drift> DecodeDrift(const nlohmann::json& j);

// What a verifying scan re-read (without read_paths, which stay on the
// agent): an object of named fields.
nlohmann::json EncodeVerifyReport(const VerifyReport& report);
base::Result<VerifyReport> DecodeVerifyReport(const nlohmann::json& j);

}  // namespace sb::sync

#endif  // AGENT_SYNC_MANIFEST_CODEC_H_
