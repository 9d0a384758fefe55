// One drill per standby at a time. The lock is an flock(2) on
// STATE_DIR/locks/STANDBY.lock, held for the drill's whole life: the kernel
// releases it when the holding process dies however it dies, which is how
// reconciliation tells a drill whose controller is gone from one still
// running. The drill's row in the state store names the holder for messages.
#ifndef STANDBY_DRILL_DRILL_LOCK_H_
#define STANDBY_DRILL_DRILL_LOCK_H_

#include <memory>
#include <string>

#include "agent/base/file.h"
#include "agent/base/status.h"

namespace sb::drill {

class DrillLock {
 public:
  // Takes the standby's lock without waiting. kUnavailable when another
  // process holds it. Creates the locks directory (0700) when absent.
  static base::Result<std::unique_ptr<DrillLock>> TryAcquire(const std::string& state_dir,
                                                             const std::string& standby);
  const std::string& path() const { return path_; }
  // The locked descriptor, made to survive exec so that a child process
  // (a prep's hold) keeps the lock after this process exits.
  base::Result<int> InheritableFd();

 private:
  DrillLock(std::string path, base::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  base::UniqueFd fd_;  // closing it releases the lock
};

}  // namespace sb::drill

#endif  // STANDBY_DRILL_DRILL_LOCK_H_
