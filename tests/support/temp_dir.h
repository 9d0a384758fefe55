// Test support: a temporary directory removed with everything in it when the
// TempDir goes out of scope, and small file helpers for tests. Not for
// production code.

#ifndef TESTS_SUPPORT_TEMP_DIR_H_
#define TESTS_SUPPORT_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace sb::testing {

class TempDir {
 public:
  TempDir();  // under $TMPDIR or /tmp; aborts the test on failure
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string Sub(std::string_view name) const;
  // Writes `content` to Sub(name) with `mode`, creating parent directories,
  // and returns the full path.
  std::string Write(std::string_view name, std::string_view content, unsigned mode = 0644) const;

 private:
  std::string path_;
};

std::string ReadWholeFile(const std::string& path);

}  // namespace sb::testing

#endif  // TESTS_SUPPORT_TEMP_DIR_H_
