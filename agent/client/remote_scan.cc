#include "agent/client/remote_scan.h"

#include <fmt/format.h>

#include "agent/sync/manifest_codec.h"

namespace sb::client {

base::Result<std::vector<sync::ManifestEntry>> ScanRemote(AgentClient& agent,
                                                          const std::string& root, ScanInfo* info) {
  base::Result<uint64_t> id = StartScan(agent, root);
  if (!id.ok()) return id.status();
  return FinishScan(agent, *id, root, info);
}

base::Result<uint64_t> StartScan(AgentClient& agent, const std::string& root) {
  return agent.Send(proto::type::kScan, {{"root", root}});
}

base::Result<std::vector<sync::ManifestEntry>> FinishScan(AgentClient& agent, uint64_t scan_id,
                                                          const std::string& root, ScanInfo* info) {
  std::vector<sync::ManifestEntry> entries;
  for (;;) {
    base::Result<proto::Message> part = agent.ReceivePart();
    if (!part.ok()) return part.status();
    if (part->type == proto::type::kError) return proto::StatusFromError(*part);
    if (part->id != scan_id || part->type != proto::type::kScan) {
      return base::Status::Invalid(
          fmt::format("agent answered {} #{} to Scan #{}", part->type, part->id, scan_id));
    }
    auto list = part->body.find("entries");
    auto more = part->body.find("more");
    if (list == part->body.end() || !list->is_array() || more == part->body.end() ||
        !more->is_boolean()) {
      return base::Status::Invalid("agent sent a malformed Scan reply");
    }
    for (const nlohmann::json& j : *list) {
      base::Result<sync::ManifestEntry> e = sync::DecodeEntry(j);
      if (!e.ok()) return e.status().WithContext(fmt::format("scan of {}", root));
      entries.push_back(std::move(*e));
    }
    if (!more->get<bool>()) {
      agent.FinishReply();
      if (info != nullptr) {
        const nlohmann::json& body = part->body;
        info->cache_used = body.value("cache", false);
        info->hashed_bytes = body.value("hashed_bytes", uint64_t{0});
        if (auto free = body.find("free_bytes"); free != body.end() && free->is_number_unsigned()) {
          info->free_bytes = free->get<uint64_t>();
        }
        if (auto times = body.find("times");
            times != body.end() && times->is_array() && times->size() == 2 &&
            (*times)[0].is_number_integer() && (*times)[1].is_number_integer()) {
          info->times = sync::TimeRange{(*times)[0].get<int64_t>(), (*times)[1].get<int64_t>()};
        }
      }
      return entries;
    }
  }
}

}  // namespace sb::client
