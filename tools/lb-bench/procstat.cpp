#include "tools/lb-bench/procstat.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "tools/common/numbers.hpp"

namespace lb::bench {

namespace {

// The number after `key` on a "Key:   123 kB"-style line, if the line has it.
std::optional<uint64_t> status_field(const std::string& line, const std::string& key) {
  std::string value;
  if (line.compare(0, key.size(), key) != 0
      || !(std::istringstream(line.substr(key.size())) >> value))
    return std::nullopt;
  return tools::parse_whole<uint64_t>(value);
}

uint64_t thread_context_switches(const std::filesystem::path& status_file) {
  std::ifstream status(status_file);
  uint64_t n = 0;
  for (std::string line; std::getline(status, line);)
    for (const char* key : {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"})
      n += status_field(line, key).value_or(0);
  return n;
}

} // namespace

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
    if (auto kb = status_field(line, "VmRSS:"))
      s.rss_bytes = *kb * 1024;
    if (auto kb = status_field(line, "VmHWM:"))
      s.hwm_bytes = *kb * 1024;
  }
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(dir + "/task", ec))
    s.context_switches += thread_context_switches(task.path() / "status");
  return s;
}

} // namespace lb::bench
