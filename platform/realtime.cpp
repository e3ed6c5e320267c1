#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::platform {

Status makeRealtime(int priority) {
  if (priority <= 0) return Status::success();  // 0 is the configured "stay SCHED_OTHER"
  sched_param param{};
  param.sched_priority = priority;
  // pthread_setschedparam returns the error instead of setting errno.
  int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
  if (err != 0) {
    return Status::failure("cannot set SCHED_FIFO priority " + std::to_string(priority) + ": " +
                           std::strerror(err));
  }
  return Status::success();
}

}  // namespace dualsp::platform
