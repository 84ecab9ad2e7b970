// Command-line flags as people type them: `--name=value` and `--name value`,
// a clear message and exit code 2 for anything unknown or malformed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lb::tools {

class flag_parser {
public:
  flag_parser(std::string program, std::string usage);

  void add(const std::string& name, std::string& target);
  void add(const std::string& name, uint64_t& target, uint64_t min, uint64_t max);
  void add_switch(const std::string& name, bool& target); // --name, no value

  // Parses argv; arguments that are not flags land in positional(). Returns
  // an exit code when the program should stop now (0 after --help, 2 on an
  // error, with the message printed), nothing when it should go on.
  std::optional<int> parse(int argc, char** argv);

  const std::vector<std::string>& positional() const { return positional_; }

private:
  struct flag {
    std::string name;
    bool takes_value = true;
    std::function<std::string(const std::string&)> set; // returns an error or ""
  };
  const flag* find(const std::string& name) const;

  std::string program_;
  std::string usage_;
  std::vector<flag> flags_;
  std::vector<std::string> positional_;
};

} // namespace lb::tools
