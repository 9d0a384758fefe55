// Manifest entries on the wire: each a CBOR array [type, mode, mtime, size,
// sha256, link target, path] (and, for drift, the previous sha256), digests
// as 32-byte byte strings, checked when decoded (the path above all).
// Pure; thread-safe.

#ifndef AGENT_SYNC_MANIFEST_CODEC_H_
#define AGENT_SYNC_MANIFEST_CODEC_H_

#include <nlohmann/json.hpp>

#include "agent/base/status.h"
#include "agent/sync/manifest.h"

namespace sb::sync {

nlohmann::json EncodeEntry(const ManifestEntry& entry);
base::Result<ManifestEntry> DecodeEntry(const nlohmann::json& j);

}  // namespace sb::sync

#endif  // AGENT_SYNC_MANIFEST_CODEC_H_
