#include "tools/lb-bench/procstat.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "tools/common/numbers.hpp"

namespace lb::bench {

std::optional<proc_sample> sample_process(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line))
    return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'. utime and stime are fields 14 and 15.
  const auto close = line.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  std::optional<uint64_t> utime, stime;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = tools::parse_whole<uint64_t>(field);
    if (i == 15)
      stime = tools::parse_whole<uint64_t>(field);
  }
  if (!utime || !stime)
    return std::nullopt;
  proc_sample s;
  s.cpu_seconds = static_cast<double>(*utime + *stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    // "VmRSS:     1234 kB"
    auto kb = [&](const char* key, uint64_t& out) {
      const std::string k = key;
      std::string value;
      if (line.compare(0, k.size(), k) == 0 && std::istringstream(line.substr(k.size())) >> value)
        if (auto n = tools::parse_whole<uint64_t>(value))
          out = *n * 1024;
    };
    kb("VmRSS:", s.rss_bytes);
    kb("VmHWM:", s.hwm_bytes);
  }
  return s;
}

} // namespace lb::bench
