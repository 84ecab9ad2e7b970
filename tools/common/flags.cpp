#include "tools/common/flags.hpp"

#include <iostream>

#include "tools/common/numbers.hpp"

namespace lb::tools {

flag_parser::flag_parser(std::string program, std::string usage)
  : program_(std::move(program)), usage_(std::move(usage)) {}

void flag_parser::add(const std::string& name, std::string& target) {
  flags_.push_back({name, true, [&target](const std::string& v) {
                      target = v;
                      return std::string{};
                    }});
}

void flag_parser::add(const std::string& name, uint64_t& target, uint64_t min, uint64_t max) {
  flags_.push_back({name, true, [&target, min, max](const std::string& v) {
                      auto x = parse_whole(v, min, max);
                      if (!x)
                        return expects(whole_number(min, max), v);
                      target = *x;
                      return std::string{};
                    }});
}

void flag_parser::add_switch(const std::string& name, bool& target) {
  flags_.push_back({name, false, [&target](const std::string&) {
                      target = true;
                      return std::string{};
                    }});
}

const flag_parser::flag* flag_parser::find(const std::string& name) const {
  for (auto& f : flags_)
    if (f.name == name)
      return &f;
  return nullptr;
}

std::optional<int> flag_parser::parse(int argc, char** argv) {
  auto fail = [this](const std::string& msg) {
    std::cerr << program_ << ": " << msg << "\n(see " << program_ << " --help)\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage_;
      return 0;
    }
    if (arg == "--") {
      for (++i; i < argc; ++i)
        positional_.emplace_back(argv[i]);
      break;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional_.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    auto* f = find(name);
    if (f == nullptr)
      return fail("unknown option --" + name);
    std::string value;
    if (!f->takes_value) {
      if (eq != std::string::npos)
        return fail("--" + name + " takes no value");
    } else if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail("--" + name + " needs a value");
    }
    if (auto err = f->set(value); !err.empty())
      return fail("--" + name + " " + err);
  }
  return std::nullopt;
}

} // namespace lb::tools
