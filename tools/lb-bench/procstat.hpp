// CPU time and memory of another process, from /proc, for the service's side
// of a benchmark (Linux only, as the service is).
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace lb::bench {

struct proc_sample {
  double cpu_seconds = 0; // user + system, all threads
  uint64_t rss_bytes = 0; // VmRSS
  uint64_t hwm_bytes = 0; // VmHWM: the peak RSS since the process started
  // Voluntary + involuntary, summed over the threads alive now: /proc/PID/status
  // alone counts only the main thread, and the service's work is elsewhere.
  uint64_t context_switches = 0;
};

// Nothing if the process is gone or /proc is unreadable.
std::optional<proc_sample> sample_process(pid_t pid);

} // namespace lb::bench
