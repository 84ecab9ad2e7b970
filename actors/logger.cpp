#include "actors/logger.hpp"

#include <cstdio>
#include <string>

namespace lb::actors::logger {

namespace {

std::string program = "leaderboardd";

void write(std::FILE* to, std::string_view line) {
  std::string out;
  out.reserve(program.size() + line.size() + 3);
  out.append(program).append(": ").append(line).push_back('\n');
  std::fwrite(out.data(), 1, out.size(), to);
  std::fflush(to);
}

} // namespace

void set_program(std::string_view name) {
  program = name;
}

void note(std::string_view line) {
  write(stderr, line);
}

void problem(std::string_view line) {
  write(stderr, line);
}

} // namespace lb::actors::logger
