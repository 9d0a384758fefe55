// libFuzzer target for what a backup's author controls: an archive's
// entries, through libarchive, then every check the controller makes of
// them (paths, types, duplicates, hard and symbolic links) and the listing
// the restore plans from. Built by scripts/fuzz with clang; not part of the
// ctest suite.

#include <cstddef>
#include <cstdint>
#include <string>

#include "standby/restore/source.h"
#include "standby/restore/source_manifest.h"

namespace restore = sb::restore;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Every entry with its data, bounded: a hostile header may claim any size.
  if (auto reader = restore::SourceReader::OpenArchiveBytes(bytes, "fuzz.tar"); reader.ok()) {
    restore::SourceEntry e;
    char buf[4096];
    uint64_t total = 0;
    for (int entries = 0; entries < 10'000; ++entries) {
      sb::base::Result<bool> more = (*reader)->Next(&e);
      if (!more.ok() || !*more) break;
      for (;;) {
        sb::base::Result<size_t> n = (*reader)->Read(buf, sizeof buf);
        if (!n.ok() || *n == 0 || (total += *n) > (64u << 20)) break;
      }
    }
  }
  // The listing, as a restore makes it before anything is read.
  if (auto reader = restore::SourceReader::OpenArchiveBytes(bytes, "fuzz.tar"); reader.ok()) {
    (void)restore::ListSource(**reader);
  }
  return 0;
}
