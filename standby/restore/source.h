// Backup sources, read without extracting anything to disk: a directory tree
// (a backup mirror) or an archive (tar, tar.gz, tar.xz, tar.zst, as GNU tar
// makes them), both through libarchive. A configured source may be a glob;
// its newest match is used.
//
// Every entry is checked as it is read, with the checks the agent makes of
// what it is sent (agent/sync/path.h): its path must be relative and
// normalized (no "..", no NUL, not absolute, names Linux can hold, not the
// staging area's), it must appear once, it must not pass through a symlink
// the source itself contains, hard links must point at an earlier file of
// the same source, symlink targets must be what symlink(2) takes, and only
// files, directories and symlinks are allowed (no device nodes, FIFOs or
// sockets). Bad entries are errors that name the source and the entry:
// nothing is ever written because of them.
//
// A SourceReader streams: entries in the source's order, each file's data
// read in pieces. One thread.

#ifndef STANDBY_RESTORE_SOURCE_H_
#define STANDBY_RESTORE_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "agent/base/status.h"

struct archive;

namespace sb::restore {

enum class EntryType { kFile, kDirectory, kSymlink, kHardlink };

struct SourceEntry {
  std::string path;  // relative, normalized: "www/index.html"
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits
  int64_t mtime_ns = 0;
  int64_t uid = 0, gid = 0;
  uint64_t size = 0;        // files
  std::string link_target;  // symlinks: as stored; hard links: an earlier entry's path
  // Directory sources only (0 in archives): what a source hash cache keys on.
  uint64_t inode = 0;
  int64_t ctime_ns = 0;
};

struct ResolvedSource {
  enum class Kind { kDirectory, kArchive };
  Kind kind = Kind::kDirectory;
  std::string path;           // the directory, or the archive chosen (symlinks resolved)
  std::string followed;       // the symlink given as the source, when there was one
  int64_t file_mtime_ns = 0;  // the archive file's own time (0 for directories)
};

// Resolves a configured source: an existing directory, an archive, or a glob
// whose newest match (by modification time) is used. A symlink given as the
// source (a "latest" link to the newest dated backup) is followed to what it
// names; no other symlink is ever followed.
base::Result<ResolvedSource> ResolveSource(const std::string& configured);

class SourceReader {
 public:
  static base::Result<std::unique_ptr<SourceReader>> Open(const ResolvedSource& source);
  // An archive already in memory (`bytes` must outlive the reader), named
  // `name` in messages: for the fuzzer of the entry checks.
  static base::Result<std::unique_ptr<SourceReader>> OpenArchiveBytes(std::string_view bytes,
                                                                      const std::string& name);
  ~SourceReader();

  // The next entry; false at the end of the source.
  base::Result<bool> Next(SourceEntry* entry);
  // Reads the current file's data into `buffer`; 0 at its end.
  base::Result<size_t> Read(char* buffer, size_t size);

  // The newest modification time among the entries read so far: with the
  // archive's own time, what the source's age (the RPO input) is taken from.
  int64_t newest_mtime_ns() const { return newest_mtime_ns_; }
  const ResolvedSource& source() const { return source_; }

 private:
  SourceReader(ResolvedSource source, archive* a) : source_(std::move(source)), a_(a) {}
  base::Status Fail(std::string_view entry, std::string_view why) const;
  base::Status CheckEntry(const SourceEntry& entry);

  ResolvedSource source_;
  archive* a_;
  // Every path so far from an archive; only the symlinks from a directory.
  std::map<std::string, EntryType, std::less<>> seen_;
  uint64_t symlinks_ = 0;                                             // of them symlinks
  std::map<std::pair<uint64_t, uint64_t>, std::string> disk_inodes_;  // (dev, inode) -> path
  int64_t newest_mtime_ns_ = 0;
};

}  // namespace sb::restore

#endif  // STANDBY_RESTORE_SOURCE_H_
