// The librsync signatures a target's files had when the last restore staged
// them, kept under the agent's state directory (sigcache/<root hash>/
// <content sha256>.sig) so that the next restore's Signature request for an
// unchanged file is read, not computed. A signature serves only while the
// target's hash cache vouches for the file (same inode, size, times) and the
// signature's own check passes; they are pruned to the contents the target
// holds after each commit. Losing one only costs its recomputation.
#ifndef AGENT_SYNC_SIGNATURE_CACHE_H_
#define AGENT_SYNC_SIGNATURE_CACHE_H_

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>

#include "agent/sync/hash_cache.h"

namespace sb::sync {

class SignatureCache {
 public:
  // The cache of the target `root`.
  SignatureCache(const std::string& state_dir, const std::string& root);

  // The signature kept for the file `path` of the target, whose stat is
  // `st`, when `files` (the target's hash cache) says the file is as the
  // last restore left it.
  std::optional<std::string> Find(const HashCache& files, std::string_view path,
                                  const struct stat& st) const;
  // Keeps `signature` for the content `sha256`; best effort (a failure is
  // logged, naming `where`).
  void Keep(std::string_view sha256, const std::string& signature, const std::string& where) const;
  // Removes the signatures of contents `now` (the target's new hash cache)
  // does not hold in a file of at least `from` bytes: those a restore may
  // ask for (an older agent kept them for every file).
  void Prune(const HashCache& now, uint64_t from) const;

  std::string PathFor(std::string_view sha256) const;

 private:
  std::string dir_;
  mutable bool dir_made_ = false;  // Keep made dir_ already
};

}  // namespace sb::sync

#endif  // AGENT_SYNC_SIGNATURE_CACHE_H_
