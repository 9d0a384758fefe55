#include "agent/server/operations.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "agent/base/quote.h"
#include "agent/base/subprocess.h"
#include "agent/host/host_info.h"
#include "agent/host/indicators.h"
#include "agent/server/restore_handler.h"
#include "agent/sync/beneath.h"
#include "agent/sync/drift.h"
#include "agent/sync/hash_cache.h"
#include "agent/sync/manifest.h"
#include "agent/sync/manifest_codec.h"
#include "agent/sync/path.h"
#include "agent/sync/reverify.h"
#include "agent/sync/staged_restore.h"
#include "agent/sync/target_fs.h"
#include "agent/sync/tree_scan.h"

namespace sb::agent {
namespace {

proto::Message Reply(const proto::Message& request, nlohmann::json body) {
  proto::Message reply;
  reply.id = request.id;
  reply.type = request.type;
  reply.body = std::move(body);
  return reply;
}

// The command's own timeout, shortened to the request's deadline if sooner.
std::chrono::milliseconds EffectiveTimeout(const proto::Message& request,
                                           base::Duration configured) {
  if (request.deadline_ms && std::chrono::milliseconds(*request.deadline_ms) < configured) {
    return std::chrono::milliseconds(*request.deadline_ms);
  }
  return configured;
}

// Runs the configured shutdown command; what Shutdown and an expired lease
// both do.
base::Status RunShutdownCommand(const AgentConfig& config, const std::string& why) {
  base::ProcessSpec spec;
  spec.argv = config.shutdown;
  spec.timeout = config.shutdown_timeout;
  spec.max_output_bytes = config.limits.max_output_bytes;
  spdlog::warn("shutting the host down ({}): running {}", why, fmt::join(config.shutdown, " "));
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  if (!r.ok()) return r.status();
  if (!r->success()) {
    return base::Status::FailedPrecondition(
        fmt::format("shutdown command failed ({}): {}", r->Describe(), r->err));
  }
  return base::Status::Ok();
}

}  // namespace

Operations::Operations(const AgentConfig& config, HostSeams seams)
    : config_(config), seams_(std::move(seams)) {
  if (config_.role == Role::kStandby) {
    lease_ = std::make_unique<LeaseWatchdog>([this](const std::string& why) {
      base::Status s = RunShutdownCommand(config_, why);
      if (!s.ok())
        spdlog::error("the lease ran out but the host could not be shut down: {}", s.message());
    });
  }
}

Operations::~Operations() = default;

std::vector<std::string> Operations::Capabilities() const {
  std::vector<std::string> caps = {
      std::string(proto::type::kHello),      std::string(proto::type::kPing),
      std::string(proto::type::kHostInfo),   std::string(proto::type::kIndicators),
      std::string(proto::type::kRunCommand), std::string(proto::type::kStatFile)};
  if (config_.role == Role::kStandby) {
    caps.emplace_back(proto::type::kShutdown);
    caps.emplace_back(proto::type::kLease);
    caps.emplace_back(proto::type::kScan);
    caps.emplace_back(proto::type::kScanChildren);
    caps.emplace_back(proto::type::kVerify);
    for (std::string_view t :
         {proto::type::kRestoreBegin, proto::type::kSignature, proto::type::kStageFile,
          proto::type::kChange, proto::type::kRestoreCommit, proto::type::kRestoreAbort}) {
      caps.emplace_back(t);
    }
  }
  return caps;
}

bool Operations::Writes(std::string_view type) {
  return type == proto::type::kShutdown || type == proto::type::kLease ||
         type == proto::type::kVerify || RestoreHandler::Handles(type);
}

proto::Message Operations::Hello(const proto::Message& request) const {
  sessions_greeted_.fetch_add(1, std::memory_order_relaxed);
  host::HostInfo info = host::ReadHostInfo(seams_.proc_root, seams_.etc_root);
  return Reply(request, {{"protocol", proto::kProtocolVersion},
                         {"agent_version", STANDBY_VERSION},
                         {"role", RoleName(config_.role)},
                         {"host_id", info.host_id},
                         {"boot_id", info.boot_id},
                         {"capabilities", Capabilities()}});
}

proto::Message Operations::Ping(const proto::Message& request) const {
  return Reply(request, nlohmann::json::object());
}

proto::Message Operations::HostInfo(const proto::Message& request) const {
  host::HostInfo info = host::ReadHostInfo(seams_.proc_root, seams_.etc_root);
  return Reply(request, {{"hostname", info.hostname},
                         {"kernel", info.kernel},
                         {"uptime_s", info.uptime_s},
                         {"host_id", info.host_id},
                         {"boot_id", info.boot_id}});
}

proto::Message Operations::Indicators(const proto::Message& request) const {
  host::Indicators in = host::ReadIndicators(seams_.proc_root, seams_.run_root);
  in.agent_sessions = sessions_greeted_.load(std::memory_order_relaxed);
  return Reply(request, host::ToJson(in));
}

proto::Message Operations::RunCommand(const proto::Message& request) const {
  base::Result<std::string> name = proto::BodyField<std::string>(request, "name");
  if (!name.ok()) return proto::ErrorReply(request.id, name.status());
  auto it = config_.commands.find(*name);
  if (it == config_.commands.end()) {
    return proto::ErrorReply(
        request.id, base::Status::PermissionDenied(fmt::format(
                        "command {} is not on this agent's allow-list", base::Quote(*name))));
  }
  base::ProcessSpec spec;
  spec.argv = it->second.argv;
  spec.timeout = EffectiveTimeout(request, it->second.timeout);
  spec.max_output_bytes = config_.limits.max_output_bytes;
  base::Result<base::ProcessResult> r = base::RunProcess(spec);
  if (!r.ok()) return proto::ErrorReply(request.id, r.status());
  spdlog::info("ran command {}: {}", *name, r->Describe());
  return Reply(request, {{"exit_code", r->exit_code},
                         {"signal", r->term_signal},
                         {"timed_out", r->timed_out},
                         {"stdout", r->out},
                         {"stderr", r->err},
                         {"truncated", r->output_truncated},
                         {"duration_ms", r->elapsed.count() / 1000},
                         {"duration_us", r->elapsed.count()}});
}

proto::Message Operations::Shutdown(const proto::Message& request) const {
  base::Status s = RunShutdownCommand(config_, "the controller asked");
  if (!s.ok()) return proto::ErrorReply(request.id, s);
  return Reply(request, {{"started", true}});
}

proto::Message Operations::Lease(const proto::Message& request) const {
  base::Result<std::string> holder = proto::BodyField<std::string>(request, "holder");
  if (!holder.ok()) return proto::ErrorReply(request.id, holder.status());
  if (request.body.contains("release")) {
    base::Result<bool> release = proto::BodyField<bool>(request, "release");
    if (!release.ok()) return proto::ErrorReply(request.id, release.status());
    if (*release) {
      base::Status s = lease_->Release(*holder);
      if (!s.ok()) return proto::ErrorReply(request.id, s);
      spdlog::info("lease released by {}", base::Quote(*holder));
      return Reply(request, {{"holder", *holder}, {"released", true}});
    }
  }
  base::Result<uint64_t> ttl_ms = proto::BodyField<uint64_t>(request, "ttl_ms");
  if (!ttl_ms.ok()) return proto::ErrorReply(request.id, ttl_ms.status());
  const bool renewal = lease_->holder() == *holder;
  base::Status s = lease_->Hold(
      *holder, std::chrono::milliseconds(std::min<uint64_t>(*ttl_ms, uint64_t{1} << 40)));
  if (!s.ok()) return proto::ErrorReply(request.id, s);
  if (!renewal) {
    spdlog::info("lease taken by {} for {} ms: the host shuts down unless it is renewed",
                 base::Quote(*holder), *ttl_ms);
  }
  return Reply(request, {{"holder", *holder}, {"ttl_ms", *ttl_ms}});
}

namespace {

// The root of `roots` that `path` is equal to or below (CheckUnderRoots
// said there is one); the longest when roots nest.
std::string RootOf(const std::string& path, const std::vector<std::string>& roots) {
  std::string best;
  for (const std::string& root : roots) {
    if ((path == root || (path.starts_with(root) && path[root.size()] == '/')) &&
        root.size() > best.size()) {
      best = root;
    }
  }
  return best;
}

// Hashes an open regular file, keeping its first `content_max` bytes.
base::Status HashFile(int fd, size_t content_max, nlohmann::json* out) {
  sync::Sha256 hash;
  std::string head;
  std::vector<char> buf(size_t{1} << 16);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::Status::FromErrno("read", errno);
    if (n == 0) break;
    hash.Update(buf.data(), static_cast<size_t>(n));
    if (head.size() <= content_max) {
      head.append(buf.data(), std::min(static_cast<size_t>(n), content_max + 1 - head.size()));
    }
  }
  (*out)["sha256"] = hash.HexDigest();
  if (content_max > 0 && head.size() <= content_max) {
    (*out)["content"] = nlohmann::json::binary(std::vector<uint8_t>(head.begin(), head.end()));
  }
  return base::Status::Ok();
}

}  // namespace

proto::Message Operations::StatFile(const proto::Message& request) const {
  base::Result<std::string> path = proto::BodyField<std::string>(request, "path");
  if (!path.ok()) return proto::ErrorReply(request.id, path.status());
  base::Status allowed = sync::CheckUnderRoots(*path, config_.data_roots);
  if (!allowed.ok()) return proto::ErrorReply(request.id, allowed);
  size_t content_max = 0;
  if (request.body.contains("content_max")) {
    base::Result<int64_t> m = proto::BodyField<int64_t>(request, "content_max");
    if (!m.ok()) return proto::ErrorReply(request.id, m.status());
    content_max = static_cast<size_t>(std::clamp<int64_t>(*m, 0, kMaxStatContent));
  }
  const std::string root = RootOf(*path, config_.data_roots);
  const std::string rel = path->size() > root.size() ? path->substr(root.size() + 1) : "";
  base::UniqueFd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    if (errno == ENOENT) return Reply(request, {{"exists", false}});
    return proto::ErrorReply(request.id, base::Status::FromErrno(root, errno));
  }
  std::string name = ".";
  base::Result<base::UniqueFd> parent =
      rel.empty() ? base::Result<base::UniqueFd>(base::UniqueFd(::dup(root_fd.get())))
                  : sync::OpenParentBeneath(root_fd.get(), rel, &name);
  if (!parent.ok()) {
    if (parent.status().code() == base::Code::kNotFound) return Reply(request, {{"exists", false}});
    return proto::ErrorReply(request.id, parent.status().WithContext(*path));
  }
  base::Result<std::optional<struct stat>> st = sync::StatAt(parent->get(), name);
  if (!st.ok()) return proto::ErrorReply(request.id, st.status().WithContext(*path));
  if (!st->has_value()) return Reply(request, {{"exists", false}});
  const struct stat& s = **st;
  nlohmann::json body = {
      {"exists", true},
      {"size", static_cast<uint64_t>(s.st_size)},
      {"mtime_ns", static_cast<int64_t>(s.st_mtim.tv_sec) * 1'000'000'000 + s.st_mtim.tv_nsec}};
  if (S_ISREG(s.st_mode)) {
    body["type"] = "file";
    base::UniqueFd fd(
        ::openat(parent->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) return proto::ErrorReply(request.id, base::Status::FromErrno(*path, errno));
    base::Status hashed = HashFile(fd.get(), content_max, &body);
    if (!hashed.ok()) return proto::ErrorReply(request.id, hashed.WithContext(*path));
  } else if (S_ISDIR(s.st_mode)) {
    body["type"] = "dir";
  } else if (S_ISLNK(s.st_mode)) {
    body["type"] = "symlink";
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(parent->get(), name.c_str(), target.data(), target.size());
    if (n >= 0) body["target"] = target.substr(0, static_cast<size_t>(n));
  } else {
    body["type"] = "other";
  }
  return Reply(request, std::move(body));
}

namespace {

int64_t WallMs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

// A request's {"verify": {"every", "budget", "full"}}, if it has one.
base::Result<std::optional<sync::VerifyPolicy>> VerifyPolicyOf(const proto::Message& request) {
  auto v = request.body.find("verify");
  if (v == request.body.end() || v->is_null()) return std::optional<sync::VerifyPolicy>();
  sync::VerifyPolicy policy;
  try {
    policy.every = v->at("every").get<uint32_t>();
    policy.budget = v->at("budget").get<uint64_t>();
    policy.full = v->value("full", false);
  } catch (const nlohmann::json::exception&) {
    return base::Status::Invalid(
        fmt::format("{}: \"verify\" must be {{every, budget, full}}", request.type));
  }
  if (policy.every == 0) {
    return base::Status::Invalid(fmt::format("{}: verify.every must be at least 1", request.type));
  }
  return std::optional<sync::VerifyPolicy>(policy);
}

}  // namespace

proto::Message Operations::Scan(const proto::Message& request, std::vector<proto::Message>* parts,
                                sync::HashCache* open_cache, std::optional<KeptScan>* keep) const {
  const bool verify_only = request.type == proto::type::kVerify;
  base::Result<std::string> root = proto::BodyField<std::string>(request, "root");
  if (!root.ok()) return proto::ErrorReply(request.id, root.status());
  base::Status allowed = sync::CheckUnderRoots(*root, config_.data_roots);
  if (!allowed.ok()) return proto::ErrorReply(request.id, allowed);
  base::Result<std::optional<sync::VerifyPolicy>> policy = VerifyPolicyOf(request);
  if (!policy.ok()) return proto::ErrorReply(request.id, policy.status());
  if (verify_only && !*policy) {
    return proto::ErrorReply(request.id, base::Status::Invalid("Verify without \"verify\""));
  }
  // A verifying scan records its re-reads: the target must not change
  // under it. Within a restore of the target it is held already.
  std::optional<sync::ActiveRoot> claim;
  if (*policy && open_cache == nullptr) {
    base::Result<sync::ActiveRoot> c = sync::ActiveRoot::Claim(*root, "verification");
    if (!c.ok()) return proto::ErrorReply(request.id, c.status());
    claim.emplace(std::move(*c));
  }
  // Hashes the last restore recorded are reused where the file is
  // unchanged; what it left is the baseline drift is measured against.
  sync::HashCache own;
  sync::HashCache* baseline = open_cache;
  const std::string cache_path = sync::HashCache::PathFor(config_.state_dir, *root);
  if (baseline == nullptr) {
    base::Result<sync::HashCache> loaded = sync::HashCache::Load(cache_path);
    if (loaded.ok()) {
      own = std::move(*loaded);
    } else {
      spdlog::warn("hash cache of {} not used: {}", *root, loaded.status().message());
    }
    baseline = &own;
  }
  if (verify_only && !baseline->present()) {
    return proto::ErrorReply(
        request.id,
        base::Status::FailedPrecondition(fmt::format(
            "{}: no record of a successful restore (no hash cache), so nothing to verify "
            "against; restore the target first",
            *root)));
  }
  // The re-read runs on a thread of its own while this one walks the tree.
  std::optional<sync::VerifyPlan> plan;
  base::UniqueFd root_fd;
  std::optional<base::Result<sync::ReadBacks>> reads;
  std::thread reader;
  if (*policy && baseline->present()) {
    root_fd =
        base::UniqueFd(::open(root->c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_fd.valid()) {
      return proto::ErrorReply(request.id, base::Status::FromErrno(*root, errno));
    }
    plan = sync::PlanReverify(*baseline, **policy);
    reader =
        std::thread([&] { reads = sync::ReadPlanned(root_fd.get(), *root, *plan, *baseline); });
  } else if (*policy) {
    ++baseline->rotation().pass;  // what the commit writes is read at this pass
  }
  // The scan's record holds what it did not find unchanged: the others are
  // marked in `unchanged`, and stay in the baseline only.
  sync::HashCache record;
  record.set_full_baseline(true);
  std::vector<bool> unchanged;
  std::vector<size_t> reused;
  uint64_t hashed = 0;
  sync::ScanOptions options;
  options.cache = baseline;
  options.record = &record;
  options.pass = baseline->rotation().pass;
  options.reused = &reused;
  options.unchanged = &unchanged;
  options.hashed_bytes = &hashed;
  base::Result<std::vector<sync::ManifestEntry>> entries = sync::ScanTree(*root, options);
  if (reader.joinable()) reader.join();
  if (!entries.ok()) return proto::ErrorReply(request.id, entries.status());

  std::optional<sync::VerifyReport> verified;
  if (plan) {
    if (!reads->ok()) return proto::ErrorReply(request.id, reads->status());
    verified = sync::FinishReverify(*plan, **reads, *entries, reused, *baseline, WallMs());
    // The passes of the re-reads, kept whatever the restore does next.
    base::Status saved = baseline->Save(cache_path);
    if (!saved.ok()) {
      return proto::ErrorReply(request.id, saved.WithContext("recording the re-reads"));
    }
    spdlog::info("verified {} (pass {}): {} files, {} bytes re-read, {} corrupt", *root,
                 verified->pass, verified->reread_files, verified->reread_bytes,
                 verified->corrupt.size());
  }
  std::vector<sync::Drift> drift;
  if (baseline->present()) {
    drift = sync::FindDrift(*baseline, record,
                            verified ? verified->corrupt : std::vector<std::string>(), &unchanged);
  }
  // The open restore must not trust a corrupt file's cached hash (nor the
  // signature kept for it): the bytes on disk are what its delta is made
  // against.
  if (verified && open_cache != nullptr) {
    for (size_t i = 0; i < verified->corrupt.size(); ++i) {
      sync::CachedHash* h = open_cache->FindMutable(verified->corrupt[i]);
      if (h != nullptr) h->sha256 = verified->corrupt_read[i];
    }
  }
  for (const sync::Drift& d : drift) {
    spdlog::warn("drift in {}: {} {} ({})", *root, sync::DriftKindName(d.kind), d.path, d.detail);
  }

  // Entries (not for Verify), then drift items, in parts. A controller
  // that asks for {"records": true} gets the entries as a record stream
  // (sync::RecordWriter), older ones a CBOR array per entry.
  auto flag = [&](const char* name) {
    auto it = request.body.find(name);
    return it != request.body.end() && it->is_boolean() && it->get<bool>();
  };
  const bool as_records = !verify_only && flag("records");
  const bool by_directory = as_records && keep != nullptr && flag("directories");
  sync::RecordWriter records;
  nlohmann::json batch = nlohmann::json::array();
  nlohmann::json drift_batch = nlohmann::json::array();
  size_t batch_bytes = 0;
  auto part = [&](bool more) {
    nlohmann::json body = {{"drift", std::move(drift_batch)}, {"more", more}};
    if (as_records) {
      body["records"] = nlohmann::json::binary(records.Take());
      if (by_directory) body["directories"] = true;
    } else {
      body["entries"] = std::move(batch);
    }
    batch = nlohmann::json::array();
    drift_batch = nlohmann::json::array();
    batch_bytes = 0;
    return body;
  };
  auto room_for = [&](size_t bytes, size_t items) {
    if (items == kScanEntriesPerPart || records.size() + batch_bytes + bytes > proto::kBatchBytes) {
      parts->push_back(Reply(request, part(true)));
    }
  };
  auto add = [&](nlohmann::json& list, nlohmann::json item) {
    const size_t bytes = proto::CborSizeBound(item);
    room_for(bytes, batch.size() + drift_batch.size());
    list.push_back(std::move(item));
    batch_bytes += bytes;
  };
  sync::DirectoryGroups groups;  // kept
  if (by_directory) {
    groups = sync::GroupByDirectory(*entries);
    for (const sync::DirectoryDigest& d : groups.dirs) {
      room_for(d.path.size() + 64, 0);
      records.AddDirectory(d);
    }
  } else if (as_records) {
    // A record is at most its path, its target and 60 bytes besides.
    for (const sync::ManifestEntry& e : *entries) {
      room_for(e.path.size() + e.link_target.size() + 64, 0);
      records.Add(e);
    }
  } else if (!verify_only) {
    for (const sync::ManifestEntry& e : *entries) add(batch, sync::EncodeEntry(e));
  }
  const size_t drift_sent = std::min(drift.size(), kMaxDriftReported);
  for (size_t i = 0; i < drift_sent; ++i) add(drift_batch, sync::EncodeDrift(drift[i]));
  spdlog::info("scanned {}: {} entries, {} bytes hashed, {} drifted", *root, entries->size(),
               hashed, drift.size());
  const sync::DriftCounts counts = sync::CountDrift(drift);
  nlohmann::json drift_counts = nlohmann::json::object();
  for (size_t k = 0; k < sync::kDriftKindCount; ++k) {
    drift_counts[std::string(sync::DriftKindName(static_cast<sync::DriftKind>(k)))] = counts[k];
  }
  nlohmann::json last = part(false);
  last.update({{"count", entries->size()},
               {"hashed_bytes", hashed},
               {"cache", baseline->present()},
               {"full_baseline", baseline->full_baseline()},
               {"drift_counts", std::move(drift_counts)},
               {"drift_truncated", drift_sent < drift.size()}});
  if (verified) last["verify"] = sync::EncodeVerifyReport(*verified);
  AddTargetFs(*root, &last);
  if (by_directory) {
    // What the controller's first check of room needs without the entries.
    uint64_t file_bytes = 0;
    for (const sync::ManifestEntry& e : *entries) {
      if (e.type == sync::NodeType::kFile) file_bytes += e.size;
    }
    last["file_bytes"] = file_bytes;
    keep->emplace(KeptScan{*root, std::move(*entries), std::move(groups)});
  }
  return Reply(request, std::move(last));
}

proto::Message Operations::ScanChildren(const proto::Message& request,
                                        std::vector<proto::Message>* parts,
                                        std::optional<KeptScan>* kept) const {
  base::Result<std::string> root = proto::BodyField<std::string>(request, "root");
  if (!root.ok()) return proto::ErrorReply(request.id, root.status());
  auto dirs = request.body.find("dirs");
  auto done = request.body.find("done");
  if (dirs == request.body.end() || !dirs->is_binary() ||
      (done != request.body.end() && !done->is_boolean())) {
    return proto::ErrorReply(
        request.id,
        base::Status::Invalid("ScanChildren needs \"dirs\": indices of the directories"));
  }
  if (!*kept || (*kept)->root != *root) {
    return proto::ErrorReply(
        request.id, base::Status::FailedPrecondition(fmt::format(
                        "ScanChildren: no scan of {} is kept on this connection (a Scan with "
                        "\"directories\" keeps one until its ScanChildren are done)",
                        base::Quote(*root))));
  }
  const std::vector<uint8_t>& bytes = dirs->get_binary();
  const KeptScan& scan = **kept;
  base::Result<std::vector<size_t>> indices =
      sync::DecodeIndices(sync::CharsOf(bytes), scan.groups.dirs.size());
  if (!indices.ok()) {
    return proto::ErrorReply(request.id, indices.status().WithContext("ScanChildren"));
  }
  sync::RecordWriter records;
  uint64_t count = 0;
  for (size_t index : *indices) {
    const size_t first = scan.groups.first[index];
    for (size_t k = first; k < first + scan.groups.dirs[index].children; ++k) {
      const sync::ManifestEntry& e = scan.entries[scan.groups.order[k]];
      if (records.size() + e.path.size() + e.link_target.size() + 64 > proto::kBatchBytes) {
        parts->push_back(
            Reply(request, {{"records", nlohmann::json::binary(records.Take())}, {"more", true}}));
      }
      records.Add(e);
      ++count;
    }
  }
  if (done != request.body.end() && done->get<bool>()) kept->reset();
  return Reply(
      request,
      {{"records", nlohmann::json::binary(records.Take())}, {"more", false}, {"count", count}});
}

// What the target's filesystem can hold, from the target or, before its
// first restore, the nearest directory above it that exists: free bytes
// (statvfs reads, never writes, so up to "/"), and the times it stores
// (probed only within the data roots).
void Operations::AddTargetFs(const std::string& root, nlohmann::json* body) const {
  base::Result<std::string> dir = base::NearestExisting(root);
  base::Result<sync::TargetFs> fs =
      dir.ok() ? sync::ProbeTargetFs(*dir, sync::CheckUnderRoots(*dir, config_.data_roots).ok())
               : base::Result<sync::TargetFs>(dir.status());
  if (!fs.ok()) {
    spdlog::warn("free space of {} unknown: {}", root, fs.status().message());
    return;
  }
  (*body)["free_bytes"] = fs->free_bytes;
  if (fs->times) (*body)["times"] = {fs->times->min_s, fs->times->max_s};
}

}  // namespace sb::agent
