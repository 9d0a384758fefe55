#include "agent/client/remote_scan.h"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "agent/sync/manifest_codec.h"

namespace sb::client {
namespace {

nlohmann::json PolicyJson(const sync::VerifyPolicy& p) {
  return {{"every", p.every}, {"budget", p.budget}, {"full", p.full}};
}

using base::Status;

// Appends every record of the byte string `bytes`, read by `next`
// (RecordReader::Next or NextDirectory), to *out.
template <typename T>
Status ReadRecords(const nlohmann::json& bytes, base::Result<bool> (sync::RecordReader::*next)(T*),
                   std::vector<T>* out) {
  sync::RecordReader reader(sync::CharsOf(bytes.get_binary()));
  for (;;) {
    T item;
    base::Result<bool> more = (reader.*next)(&item);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    out->push_back(std::move(item));
  }
}

// Reads the parts of the reply to request `id` of type `type`.
base::Result<std::vector<sync::ManifestEntry>> ReadParts(AgentClient& agent, uint64_t id,
                                                         std::string_view type,
                                                         const std::string& root, ScanInfo* info) {
  std::vector<sync::ManifestEntry> entries;
  ScanInfo got;
  for (;;) {
    base::Result<proto::Message> part = agent.ReceivePart();
    if (!part.ok()) return part.status();
    if (part->type == proto::type::kError) return proto::StatusFromError(*part);
    if (part->id != id || part->type != type) {
      return base::Status::Invalid(
          fmt::format("agent answered {} #{} to {} #{}", part->type, part->id, type, id));
    }
    const nlohmann::json& body = part->body;
    // Entries as a record stream, or (from an older agent) a list.
    auto records = body.find("records");
    auto list = body.find("entries");
    auto drift = body.find("drift");
    auto more = body.find("more");
    const bool has_records = records != body.end() && records->is_binary();
    if ((!has_records && (list == body.end() || !list->is_array())) || more == body.end() ||
        !more->is_boolean() || (drift != body.end() && !drift->is_array())) {
      return base::Status::Invalid(fmt::format("agent sent a malformed {} reply", type));
    }
    if (has_records) {
      auto dirs = body.find("directories");
      Status read = Status::Ok();
      if (dirs != body.end() && dirs->is_boolean() && dirs->get<bool>()) {
        if (!got.directories) got.directories.emplace();  // once: parts add to it
        read = ReadRecords(*records, &sync::RecordReader::NextDirectory, &*got.directories);
      } else {
        read = ReadRecords(*records, &sync::RecordReader::Next, &entries);
      }
      if (!read.ok()) return read.WithContext(fmt::format("scan of {}", root));
    } else {
      for (const nlohmann::json& j : *list) {
        base::Result<sync::ManifestEntry> e = sync::DecodeEntry(j);
        if (!e.ok()) return e.status().WithContext(fmt::format("scan of {}", root));
        entries.push_back(std::move(*e));
      }
    }
    if (drift != body.end()) {
      for (const nlohmann::json& j : *drift) {
        base::Result<sync::Drift> d = sync::DecodeDrift(j);
        if (!d.ok()) return d.status().WithContext(fmt::format("scan of {}", root));
        got.drift.push_back(std::move(*d));
      }
    }
    if (more->get<bool>()) continue;
    agent.FinishReply();
    if (got.directories) {
      if (base::Status order = sync::CheckDirectoryList(*got.directories); !order.ok()) {
        return order.WithContext(fmt::format("scan of {}: the agent sent", root));
      }
    }
    got.cache_used = body.value("cache", false);
    got.full_baseline = body.value("full_baseline", false);
    got.hashed_bytes = body.value("hashed_bytes", uint64_t{0});
    got.file_bytes = body.value("file_bytes", uint64_t{0});
    got.drift_truncated = body.value("drift_truncated", false);
    if (auto counts = body.find("drift_counts"); counts != body.end() && counts->is_object()) {
      for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
        got.drift_counts[k] = counts->value(
            std::string(sync::DriftKindName(static_cast<sync::DriftKind>(k))), uint64_t{0});
      }
    }
    if (auto v = body.find("verify"); v != body.end()) {
      base::Result<sync::VerifyReport> r = sync::DecodeVerifyReport(*v);
      if (!r.ok()) return r.status().WithContext(fmt::format("scan of {}", root));
      got.verify = std::move(*r);
    }
    if (auto free = body.find("free_bytes"); free != body.end() && free->is_number_unsigned()) {
      got.free_bytes = free->get<uint64_t>();
    }
    if (auto times = body.find("times"); times != body.end() && times->is_array() &&
                                         times->size() == 2 && (*times)[0].is_number_integer() &&
                                         (*times)[1].is_number_integer()) {
      got.times = sync::TimeRange{(*times)[0].get<int64_t>(), (*times)[1].get<int64_t>()};
    }
    if (info != nullptr) *info = std::move(got);
    return entries;
  }
}

}  // namespace

base::Result<std::vector<sync::ManifestEntry>> ScanRemote(AgentClient& agent,
                                                          const std::string& root, ScanInfo* info) {
  base::Result<uint64_t> id = StartScan(agent, root);
  if (!id.ok()) return id.status();
  return FinishScan(agent, *id, root, info);
}

base::Result<uint64_t> StartScan(AgentClient& agent, const std::string& root,
                                 const sync::VerifyPolicy* verify, bool by_directory) {
  nlohmann::json body = {{"root", root}, {"records", true}};
  if (by_directory) body["directories"] = true;
  if (verify != nullptr) body["verify"] = PolicyJson(*verify);
  return agent.Send(proto::type::kScan, std::move(body));
}

base::Result<std::vector<sync::ManifestEntry>> FinishScan(AgentClient& agent, uint64_t scan_id,
                                                          const std::string& root, ScanInfo* info) {
  return ReadParts(agent, scan_id, proto::type::kScan, root, info);
}

bool ScansByDirectory(const AgentClient& agent) {
  const std::vector<std::string>& caps = agent.hello().capabilities;
  return std::find(caps.begin(), caps.end(), proto::type::kScanChildren) != caps.end();
}

base::Result<std::vector<sync::ManifestEntry>> ReadChildren(AgentClient& agent,
                                                            const std::string& root,
                                                            const std::vector<size_t>& dirs) {
  // At most 64k directories a request (their indices take a few bytes
  // each); at least one request, which lets the agent's kept scan go.
  constexpr size_t kPerRequest = 65536;
  std::vector<sync::ManifestEntry> entries;
  size_t next = 0;
  do {
    const size_t end = std::min(dirs.size(), next + kPerRequest);
    const std::vector<size_t> batch(dirs.begin() + static_cast<ptrdiff_t>(next),
                                    dirs.begin() + static_cast<ptrdiff_t>(end));
    next = end;
    base::Result<uint64_t> id = agent.Send(
        proto::type::kScanChildren, {{"root", root},
                                     {"dirs", nlohmann::json::binary(sync::EncodeIndices(batch))},
                                     {"done", next == dirs.size()}});
    if (!id.ok()) return id.status();
    base::Result<std::vector<sync::ManifestEntry>> got =
        ReadParts(agent, *id, proto::type::kScanChildren, root, nullptr);
    if (!got.ok()) return got.status();
    entries.insert(entries.end(), std::make_move_iterator(got->begin()),
                   std::make_move_iterator(got->end()));
  } while (next < dirs.size());
  return entries;
}

base::Status VerifyRemote(AgentClient& agent, const std::string& root,
                          const sync::VerifyPolicy& verify, ScanInfo* info) {
  base::Result<uint64_t> id =
      agent.Send(proto::type::kVerify, {{"root", root}, {"verify", PolicyJson(verify)}});
  if (!id.ok()) return id.status();
  base::Result<std::vector<sync::ManifestEntry>> r =
      ReadParts(agent, *id, proto::type::kVerify, root, info);
  return r.status();
}

}  // namespace sb::client
