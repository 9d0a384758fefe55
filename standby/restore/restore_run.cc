#include "standby/restore/restore_run.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "agent/base/units.h"
#include "agent/client/remote_restore.h"
#include "agent/client/remote_scan.h"
#include "agent/sync/rsync_delta.h"
#include "agent/sync/target_fs.h"
#include "standby/restore/source_manifest.h"

namespace sb::restore {
namespace {

using base::Status;
using Clock = std::chrono::steady_clock;

int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The owner the target gets for a source's id, or nullopt to leave it.
std::optional<uint32_t> MapId(const OwnerPolicy& policy, const std::map<int64_t, int64_t>& map,
                              int64_t id) {
  if (!policy.set_owners) return std::nullopt;
  auto it = map.find(id);
  return static_cast<uint32_t>(it == map.end() ? id : it->second);
}

nlohmann::json MetaJson(const SourceEntry& e, const OwnerPolicy& owners) {
  nlohmann::json j = {{"mode", e.mode}, {"mtime_ns", e.mtime_ns}};
  if (auto uid = MapId(owners, owners.uid_map, e.uid)) j["uid"] = *uid;
  if (auto gid = MapId(owners, owners.gid_map, e.gid)) j["gid"] = *gid;
  return j;
}

// Reports a long step's progress (hashing the source, the transfer) to
// spec.on_progress: at most every 100 ms, and once more when it ends.
class Progress {
 public:
  Progress(const RestoreSpec& spec, std::string step, std::string subject, uint64_t total)
      : sink_(spec.on_progress) {
    event_.step = std::move(step);
    event_.subject = std::move(subject);
    event_.total = total;
  }
  ~Progress() {
    if (!sink_ || !reported_) return;
    event_.ended = true;
    Report(Clock::now());
  }

  void Update(uint64_t done) {
    if (!sink_) return;
    event_.done = done;
    const Clock::time_point now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    Report(now);
  }

 private:
  void Report(Clock::time_point now) {
    last_ = now;
    reported_ = true;
    event_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_);
    sink_(event_);
  }

  const std::function<void(const RestoreProgress&)>& sink_;
  RestoreProgress event_;
  bool reported_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = start_;
};

// The source's second pass: everything the plan says to send. `source` is
// the source's manifest, sorted by path.
class Transfer {
 public:
  Transfer(client::RemoteRestore& remote, const Plan& plan,
           const std::vector<sync::ManifestEntry>& source, RestoreReport& report)
      : remote_(remote), report_(report), plan_(plan), source_(source) {
    // Only what changes, as indexes into the plan sorted by path: in a big
    // tree where little did, a map of every entry would cost more than the
    // changes, and in a cold restore path-keyed maps of the changes cost
    // more than the plan itself.
    for (size_t i = 0; i < plan.entries.size(); ++i) {
      if (plan.entries[i].action != Action::kDelete) by_path_.push_back(i);
    }
    std::stable_sort(by_path_.begin(), by_path_.end(), [&](size_t a, size_t b) {
      return plan.entries[a].path < plan.entries[b].path;
    });
    seen_.assign(by_path_.size(), false);
  }

  // Fetches the signatures of the files to send as deltas, pipelined, up to
  // a memory budget; the rest are asked for one at a time as they come.
  Status PrefetchSignatures(const Plan& plan) {
    std::vector<std::string> paths;
    uint64_t budget = kSignatureBudget;
    for (const PlannedEntry& p : plan.entries) {
      if (p.action != Action::kDelta) continue;
      const uint64_t estimate = sync::SignatureSizeEstimate(p.bytes);
      if (estimate > budget) continue;
      budget -= estimate;
      paths.push_back(p.path);
    }
    if (paths.empty()) return Status::Ok();
    base::Result<std::map<std::string, std::string>> got = remote_.Signatures(paths);
    if (!got.ok()) return got.status();
    signatures_ = std::move(*got);
    return Status::Ok();
  }

  Status Run(SourceReader& reader, uint64_t total_bytes) {
    SourceEntry e;
    Progress progress(report_.spec, "transfer", report_.spec.target, total_bytes);
    for (;;) {
      base::Result<bool> more = reader.Next(&e);
      if (!more.ok()) return more.status();
      if (!*more) break;
      SB_RETURN_IF_ERROR(One(reader, e, progress));
    }
    // Read twice, the source must not have lost what the plan needs.
    auto unseen = std::find(seen_.begin(), seen_.end(), false);
    if (unseen != seen_.end()) {
      const size_t missing = static_cast<size_t>(std::count(unseen, seen_.end(), false));
      return Status::FailedPrecondition(fmt::format(
          "backup source {} changed while it was read: \"{}\"{} vanished", reader.source().path,
          plan_.entries[by_path_[static_cast<size_t>(unseen - seen_.begin())]].path,
          missing > 1 ? fmt::format(" and {} more", missing - 1) : ""));
    }
    return Status::Ok();
  }

 private:
  // What the plan does to `path` (the last of its changes, a type change's
  // delete aside), and marks it seen; kUnchanged when the plan has none.
  Action Take(std::string_view path) {
    auto less = [&](size_t i, std::string_view p) { return plan_.entries[i].path < p; };
    auto lo = std::lower_bound(by_path_.begin(), by_path_.end(), path, less);
    Action action = Action::kUnchanged;
    for (auto it = lo; it != by_path_.end() && plan_.entries[*it].path == path; ++it) {
      seen_[static_cast<size_t>(it - by_path_.begin())] = true;
      action = plan_.entries[*it].action;
    }
    return action;
  }

  Status One(SourceReader& reader, const SourceEntry& e, Progress& progress) {
    const Action action = Take(e.path);
    nlohmann::json change = MetaJson(e, report_.spec.owners);
    change["path"] = e.path;
    if (e.type == EntryType::kDirectory) {
      // Every directory, changed or not: its time is set after its contents.
      change["op"] = "dir";
      return remote_.AddChange(std::move(change));
    }
    switch (action) {
      case Action::kUnchanged:
      case Action::kDelete:
        return Status::Ok();
      case Action::kMetadata:
        change["op"] = "meta";
        return remote_.AddChange(std::move(change));
      case Action::kSymlink:
        change["op"] = "symlink";
        change["target"] = e.link_target;
        return remote_.AddChange(std::move(change));
      case Action::kHardlink:
        return remote_.AddChange({{"op", "link"}, {"path", e.path}, {"to", e.link_target}});
      case Action::kDirectory:
        return Status::Internal(fmt::format("{}: planned as a directory, but is none", e.path));
      case Action::kNew:
      case Action::kWhole:
      case Action::kDelta:
        return SendFile(reader, e, action == Action::kDelta, progress);
    }
    return Status::Ok();
  }

  Status SendFile(SourceReader& reader, const SourceEntry& e, bool delta, Progress& progress) {
    client::StageHeader h;
    h.path = e.path;
    h.delta = delta;
    h.size = e.size;
    const sync::ManifestEntry* listed = sync::FindByPath(source_, e.path);
    if (listed == nullptr || !listed->sha256.known()) {
      return Status::Internal(fmt::format("{}: planned to be sent, but has no hash", e.path));
    }
    h.sha256 = listed->sha256.Hex();
    h.mode = e.mode;
    h.mtime_ns = e.mtime_ns;
    h.uid = MapId(report_.spec.owners, report_.spec.owners.uid_map, e.uid);
    h.gid = MapId(report_.spec.owners, report_.spec.owners.gid_map, e.gid);
    sync::ByteSource data = [&](char* buf, size_t n) -> base::Result<size_t> {
      base::Result<size_t> got = reader.Read(buf, n);
      if (got.ok()) {
        read_ += *got;
        progress.Update(read_);
      }
      return got;
    };
    if (!delta) {
      SB_RETURN_IF_ERROR(remote_.StartFile(h));
      std::string buf(size_t{256} * 1024, '\0');
      for (;;) {
        base::Result<size_t> n = data(buf.data(), buf.size());
        if (!n.ok()) return n.status();
        if (*n == 0) break;
        SB_RETURN_IF_ERROR(remote_.FileData(std::string_view(buf.data(), *n)));
        report_.literal_bytes += *n;
      }
      return remote_.EndFile();
    }
    base::Result<std::string> signature = TakeSignature(e.path);
    if (!signature.ok()) return signature.status();
    SB_RETURN_IF_ERROR(remote_.StartFile(h));
    base::Result<sync::DeltaStats> stats = sync::MakeDelta(
        *signature, data, [&](std::string_view bytes) { return remote_.FileData(bytes); });
    if (!stats.ok()) return stats.status().WithContext(e.path);
    report_.literal_bytes += stats->literal_bytes;
    report_.matched_bytes += stats->matched_bytes;
    return remote_.EndFile();
  }

  base::Result<std::string> TakeSignature(const std::string& path) {
    auto it = signatures_.find(path);
    if (it == signatures_.end()) return remote_.Signature(path);
    std::string sig = std::move(it->second);
    signatures_.erase(it);
    return sig;
  }

  static bool IsFileSent(Action a) {
    return a == Action::kNew || a == Action::kWhole || a == Action::kDelta;
  }

  static constexpr uint64_t kSignatureBudget = 64 << 20;
  client::RemoteRestore& remote_;
  RestoreReport& report_;
  std::map<std::string, std::string> signatures_;  // prefetched, by path
  const Plan& plan_;
  const std::vector<sync::ManifestEntry>& source_;  // sorted by path
  std::vector<size_t> by_path_;  // the plan's entries but deletes, sorted by path
  std::vector<bool> seen_;       // by_path_'s entries the second pass found
  uint64_t read_ = 0;            // bytes of the source's files to send, read so far
};

// A directory source's hash cache (sync::HashCache), loaded from and saved
// to `path`: its files whose inode, size, mtime and ctime did not change
// are not read again.
class SourceCache {
 public:
  SourceCache(const std::string& path, const ResolvedSource& source)
      : path_(source.kind == ResolvedSource::Kind::kDirectory ? path : "") {
    if (path_.empty()) return;
    base::Result<sync::HashCache> loaded = sync::HashCache::Load(path_);
    if (loaded.ok()) {
      cache_ = std::move(*loaded);
    } else {
      spdlog::warn("source hash cache not used: {}", loaded.status().message());
    }
  }
  const sync::HashCache* cache() const { return path_.empty() ? nullptr : &cache_; }
  std::vector<bool>* reused() { return path_.empty() ? nullptr : &reused_; }
  // After the listing: the loaded cache becomes the record, in its place
  // (a large source's cache is not small): the files the listing reused,
  // then those HashListed puts. Whether it differs from what was loaded is
  // known already, unless files are left to hash.
  void Listed(const SourceListing& listing) {
    unchanged_ = cache_.present() && !cache_.older_form() && listing.unhashed.empty() &&
                 reused_.size() == cache_.size() &&
                 std::find(reused_.begin(), reused_.end(), false) == reused_.end();
    cache_.KeepOnly(reused_);
    reused_ = {};
  }
  sync::HashCache* record() { return path_.empty() ? nullptr : &cache_; }
  void SaveIfChanged() {
    if (path_.empty() || unchanged_) return;
    Status saved = cache_.Save(path_);
    if (!saved.ok()) spdlog::warn("source hash cache not saved: {}", saved.message());
  }

 private:
  std::string path_;  // empty: no cache
  sync::HashCache cache_;
  std::vector<bool> reused_;  // by the listing, by index in cache_
  bool unchanged_ = false;
};

base::Result<SourceListing> ListSourceOf(const ResolvedSource& source, SourceCache& cache) {
  base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(source);
  if (!reader.ok()) return reader.status();
  base::Result<SourceListing> listing = ListSource(**reader, cache.cache(), cache.reused());
  if (listing.ok()) cache.Listed(*listing);
  return listing;
}

// Before any file's data is read: what the sizes the source's entries
// declare prove the restore must stage (a new path, another size, or a hash
// the cache knows to differ). A tar bomb, or a sparse file of 50 GiB, is
// refused here, in the time it takes to read the headers.
// `target` gets sorted by path. A scan by directory sent no entries yet,
// only the sizes of the target's files added: then at least what the
// source's files hold beyond them (a weaker bound; the full check below
// holds).
Status CheckRoomFromSizes(const RestoreSpec& spec, const SourceListing& listing,
                          std::vector<sync::ManifestEntry>& target, const client::ScanInfo& info) {
  if (!info.free_bytes) return Status::Ok();  // the full check refuses it
  uint64_t at_least = 0;
  if (info.directories) {
    uint64_t source_bytes = 0;
    for (const sync::ManifestEntry& e : listing.entries) {
      if (e.type == sync::NodeType::kFile && listing.hardlinks.count(e.path) == 0) {
        source_bytes += e.size;
      }
    }
    at_least = source_bytes > info.file_bytes ? source_bytes - info.file_bytes : 0;
  } else {
    sync::SortByPath(target);
    for (const sync::ManifestEntry& e : listing.entries) {
      if (e.type != sync::NodeType::kFile || listing.hardlinks.count(e.path) > 0) continue;
      const sync::ManifestEntry* t = sync::FindByPath(target, e.path);
      if (t == nullptr || t->type != sync::NodeType::kFile || t->size != e.size ||
          (e.sha256.known() && e.sha256 != t->sha256)) {
        at_least += e.size;
      }
    }
  }
  if (*info.free_bytes >= at_least + spec.keep_free) return Status::Ok();
  return Status::FailedPrecondition(fmt::format(
      "target {} has {} free; the restore stages at least {} (the sizes the source's entries "
      "declare, before any of their data is read) and must leave keep_free = {}",
      spec.target, base::FormatSize(*info.free_bytes), base::FormatSize(at_least),
      base::FormatSize(spec.keep_free)));
}

// The type of `path` in `target` (sorted by path), if it is there.
std::optional<sync::NodeType> TypeIn(const std::vector<sync::ManifestEntry>& target,
                                     const std::string& path) {
  const sync::ManifestEntry* e = sync::FindByPath(target, path);
  return e != nullptr ? std::optional(e->type) : std::nullopt;
}

// The manifests carry no owners: an entry whose owner (only) changed on the
// standby looks unchanged to the plan. Its metadata is set again (a
// symlink's with the symlink).
void SetAgainWhatDrifted(const std::vector<sync::Drift>& drift,
                         const std::vector<sync::ManifestEntry>& target, Plan* plan) {
  for (const sync::Drift& d : drift) {
    if (d.kind != sync::DriftKind::kMetadata) continue;
    auto it = std::lower_bound(
        plan->entries.begin(), plan->entries.end(), d.path,
        [](const PlannedEntry& e, const std::string& path) { return e.path < path; });
    // A path the plan changes already, or not on the target: nothing to add.
    // A path on the target that the plan has no entry for is unchanged.
    if (it != plan->entries.end() && it->path == d.path) continue;
    const std::optional<sync::NodeType> type = TypeIn(target, d.path);
    if (!type) continue;
    const Action action = type == sync::NodeType::kSymlink ? Action::kSymlink : Action::kMetadata;
    plan->entries.insert(it, {d.path, action, 0, {}});
    --plan->totals[static_cast<size_t>(Action::kUnchanged)].count;
    ++plan->totals[static_cast<size_t>(action)].count;
  }
}

// Bytes the restore stages on the target: every new or changed file, whole.
uint64_t StagingBytes(const Plan& plan) {
  return plan.Totals(Action::kNew).bytes + plan.Totals(Action::kWhole).bytes +
         plan.Totals(Action::kDelta).bytes;
}

// Every check made before anything is staged; a dry run makes them too.
Status CheckBeforeStaging(const RestoreReport& r, const std::vector<sync::ManifestEntry>& source,
                          const client::ScanInfo& target) {
  const RestoreSpec& spec = r.spec;
  const uint64_t deletes = r.plan.Totals(Action::kDelete).count;
  const uint64_t allowed = spec.max_delete.Allowed(r.target_entries);
  if (deletes > allowed && !spec.allow_mass_delete) {
    return Status::FailedPrecondition(fmt::format(
        "the restore would delete {} of the {} entries in target {}, more than max_delete = {} "
        "allows ({}); a backup source that came up empty or incomplete (an unmounted disk, a "
        "failed backup) looks like this, and {} has {} entries. If the deletions are intended, "
        "run standbyctl restore with --allow-mass-delete, or raise max_delete",
        deletes, r.target_entries, spec.target, spec.max_delete.ToString(), allowed, r.source.path,
        r.source_entries));
  }
  if (!target.free_bytes) {
    return Status::FailedPrecondition(
        fmt::format("the agent could not tell the free space of target {}", spec.target));
  }
  const uint64_t staging = StagingBytes(r.plan);
  if (*target.free_bytes < staging + spec.keep_free) {
    return Status::FailedPrecondition(
        fmt::format("target {} has {} free; the restore stages {} and must leave keep_free = {}",
                    spec.target, base::FormatSize(*target.free_bytes), base::FormatSize(staging),
                    base::FormatSize(spec.keep_free)));
  }
  for (const sync::ManifestEntry& e : source) {
    if (!target.times || target.times->Contains(e.mtime_s)) continue;
    return sync::CheckStorableTime(
        fmt::format("backup source {}: entry \"{}\"", r.source.path, e.path), e.mtime_s,
        *target.times);
  }
  return Status::Ok();
}

using CommitPoint = client::RemoteRestore::CommitPoint;

// The last words of a failed restore's error: what its target holds now.
std::string TargetStateAfter(CommitPoint point) {
  switch (point) {
    case CommitPoint::kNotReached:
      return "; nothing was changed: the target keeps its state from before this restore";
    case CommitPoint::kPassed:
      return "; the restore was committed, so the target has changed: it holds the backup's "
             "state except where this says otherwise, until a restore of it succeeds";
    case CommitPoint::kUnknown:
      return "; whether the agent committed is not known: the target holds either its state "
             "from before this restore or the backup's, never a mix (the agent finishes or "
             "discards an interrupted restore)";
  }
  return "";
}

base::Result<RestoreReport> RunRestoreSteps(client::AgentClient& agent, const RestoreSpec& spec,
                                            CommitPoint* point) {
  RestoreReport report;
  report.spec = spec;
  const uint64_t wire_at_start = agent.channel().wire_bytes();
  base::Result<ResolvedSource> source = ResolveSource(spec.source);
  if (!source.ok()) return source.status();
  report.source = *source;

  std::optional<client::RemoteRestore> remote;
  if (!spec.dry_run) {
    base::Result<client::RemoteRestore> r = client::RemoteRestore::Begin(
        agent, spec.target, &report.recovered, spec.plan.whole_file_below);
    if (!r.ok()) return r.status().WithContext(fmt::format("target {}", spec.target));
    remote.emplace(std::move(*r));
  }
  auto fail = [&](Status s) {
    if (remote) remote->Abort();
    return s;
  };

  // Scan: both sides' manifests, the agent's while this side lists the
  // source; the source's data is read only once the sizes it declares are
  // known to fit.
  Clock::time_point start = Clock::now();
  // A dry run is no restore: the agent would have to claim the target to
  // record re-reads, so it only compares with its cache.
  const sync::VerifyPolicy* verify = spec.verify && !spec.dry_run ? &*spec.verify : nullptr;
  // By directory where the agent can: only the entries of directories
  // that differ from the source's then travel.
  const bool by_directory = spec.scan_by_directory && client::ScansByDirectory(agent);
  base::Result<uint64_t> scan_id = client::StartScan(agent, spec.target, verify, by_directory);
  if (!scan_id.ok()) return fail(scan_id.status());
  // Held only until the hashes are in: the plan does not need it.
  std::optional<SourceCache> cache(std::in_place, spec.source_cache, *source);
  base::Result<SourceListing> listing = ListSourceOf(*source, *cache);
  client::ScanInfo scan_info;
  base::Result<std::vector<sync::ManifestEntry>> have =
      client::FinishScan(agent, *scan_id, spec.target, &scan_info);
  if (!listing.ok()) return fail(listing.status());
  if (!have.ok()) return fail(have.status().WithContext(fmt::format("target {}", spec.target)));
  Status room = CheckRoomFromSizes(spec, *listing, *have, scan_info);
  if (!room.ok()) return fail(room);
  Status hashed;
  {
    uint64_t to_hash = 0;
    for (const SourceListing::Unhashed& u : listing->unhashed) {
      to_hash += listing->entries[u.index].size;
    }
    Progress hashing(spec, "hash", source->path, to_hash);
    hashed = HashListed(*source, &*listing, cache->record(),
                        [&](uint64_t done) { hashing.Update(done); });
  }
  if (!hashed.ok()) return fail(hashed);
  cache->SaveIfChanged();
  cache.reset();
  report.source_newest_ns = std::max(listing->newest_mtime_ns, source->file_mtime_ns);
  std::vector<sync::ManifestEntry>& wanted = listing->entries;
  const std::map<std::string, std::string>& hardlinks = listing->hardlinks;
  // Every directory of the target equal to the source's proves the whole
  // equal (a directory the source has and the target lacks would have made
  // its parent's digest differ, up to the root): the source's manifest then
  // stands for the target's, and is not copied.
  bool target_is_source = false;
  if (scan_info.directories) {
    sync::SortByPath(wanted);  // grouping it and merging with it are then linear
    const std::vector<size_t> to_read =
        sync::DirectoriesToRead(sync::DirectoryDigests(wanted), *scan_info.directories);
    // Asked even when empty: the request lets the agent's kept scan go.
    base::Result<std::vector<sync::ManifestEntry>> read =
        client::ReadChildren(agent, spec.target, to_read);
    if (!read.ok()) return fail(read.status().WithContext(fmt::format("target {}", spec.target)));
    report.target_directories = scan_info.directories->size();
    report.target_directories_read = to_read.size();
    target_is_source = to_read.empty();
    if (!target_is_source) {
      base::Result<std::vector<sync::ManifestEntry>> rebuilt =
          TargetFromDirectories(wanted, *scan_info.directories, to_read, std::move(*read));
      if (!rebuilt.ok()) {
        return fail(rebuilt.status().WithContext(fmt::format("target {}", spec.target)));
      }
      *have = std::move(*rebuilt);
    }
  }
  const std::vector<sync::ManifestEntry>& target = target_is_source ? wanted : *have;
  report.hash_cache_used = scan_info.cache_used;
  report.scan_ms = MsSince(start);

  // Drift, as the agent found it: recorded before anything changes.
  report.drift = std::move(scan_info.drift);
  report.drift_counts = scan_info.drift_counts;
  report.drift_truncated = scan_info.drift_truncated;
  report.full_baseline = scan_info.full_baseline;
  report.verify = std::move(scan_info.verify);
  report.target_hashed_bytes = scan_info.hashed_bytes;
  if (spec.on_drift && !report.drift.empty()) spec.on_drift(report.drift);

  // Plan.
  start = Clock::now();
  report.source_entries = wanted.size();
  report.target_entries = target.size();
  // Both sorted by path now, which MakePlan and TypeIn rely on.
  report.source_digest = sync::ManifestDigest(wanted);
  const std::string target_digest_now =
      target_is_source ? report.source_digest : sync::ManifestDigest(*have);
  report.plan = MakePlan(wanted, target, hardlinks, spec.plan);
  SetAgainWhatDrifted(report.drift, target, &report.plan);
  report.plan_ms = MsSince(start);
  Status refusal = CheckBeforeStaging(report, wanted, scan_info);
  if (spec.dry_run) {
    report.refusal = std::move(refusal);
    return report;
  }
  if (!refusal.ok()) return fail(refusal);
  if (report.plan.entries.empty() && target_digest_now == report.source_digest) {
    // Already current, as the digests prove: nothing to stage or commit.
    remote->Abort();
    report.wire_bytes = agent.channel().wire_bytes() - wire_at_start;
    report.target_digest = target_digest_now;
    return report;
  }
  const uint64_t staging = StagingBytes(report.plan);
  if (spec.before_transfer) spec.before_transfer();

  // Transfer.
  start = Clock::now();
  // A deleted directory goes with everything in it: what is below one is
  // not sent (a deep tree's paths would add up to megabytes).
  std::set<std::string, std::less<>> deleted_dirs;
  for (const PlannedEntry& p : report.plan.entries) {
    if (p.action != Action::kDelete) continue;
    const std::optional<sync::NodeType> found = TypeIn(target, p.path);
    if (!found)
      return fail(Status::Internal(fmt::format("{}: planned as a delete, but is none", p.path)));
    const sync::NodeType type = *found;
    if (type == sync::NodeType::kDirectory) deleted_dirs.insert(p.path);
    const size_t slash = p.path.rfind('/');
    if (slash != std::string::npos &&
        deleted_dirs.count(std::string_view(p.path).substr(0, slash)) > 0) {
      continue;
    }
    Status s = remote->AddChange(
        {{"op", "delete"}, {"path", p.path}, {"type", std::string(1, static_cast<char>(type))}});
    if (!s.ok()) return fail(s);
  }
  {
    base::Result<std::unique_ptr<SourceReader>> reader = SourceReader::Open(*source);
    if (!reader.ok()) return fail(reader.status());
    Transfer transfer(*remote, report.plan, wanted, report);
    Status s = transfer.PrefetchSignatures(report.plan);
    if (s.ok()) s = transfer.Run(**reader, staging);
    if (!s.ok()) return fail(s);
  }
  report.transfer_ms = MsSince(start);

  // Commit, and the proof: the target's digest is the source's.
  start = Clock::now();
  base::Result<client::CommitReply> commit = remote->Commit(point);
  report.wire_bytes = agent.channel().wire_bytes() - wire_at_start;
  if (!commit.ok()) return commit.status().WithContext(fmt::format("target {}", spec.target));
  report.commit_ms = MsSince(start);
  report.target_digest = commit->digest;
  if (commit->unapplied_count > 0) {
    return Status::FailedPrecondition(fmt::format(
        "target {}: {} of the restore's {} changes could not be applied after its commit "
        "point: {}{}",
        spec.target, commit->unapplied_count, commit->changes, fmt::join(commit->unapplied, "; "),
        commit->unapplied.size() < commit->unapplied_count ? "; ..." : ""));
  }
  if (report.target_digest != report.source_digest) {
    return Status::Corruption(fmt::format(
        "target {} after the commit has digest {}, the source {} has {}: the restore did not "
        "reproduce the source",
        spec.target, report.target_digest, report.source.path, report.source_digest));
  }
  return report;
}

}  // namespace

uint64_t RestoreReport::DriftTotal() const {
  uint64_t total = 0;
  for (uint64_t n : drift_counts) total += n;
  return total;
}

base::Result<RestoreReport> RunRestore(client::AgentClient& agent, const RestoreSpec& spec) {
  CommitPoint point = CommitPoint::kNotReached;
  base::Result<RestoreReport> r = RunRestoreSteps(agent, spec, &point);
  if (r.ok() || spec.dry_run) return r;
  return Status(r.status().code(), r.status().message() + TargetStateAfter(point));
}

}  // namespace sb::restore
