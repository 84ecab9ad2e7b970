#include "tools/common/flags.hpp"

#include <algorithm>
#include <iostream>

namespace lb::tools {

namespace {

constexpr std::size_t usage_width = 80;
// Where a flag's help starts: past the longest flag, but at least where the
// programs' lists of commands start theirs, and at most this far.
constexpr std::size_t narrowest_column = 22;
constexpr std::size_t widest_column = 30;

std::string spelling(const flag& f) {
  return "--" + f.name + (f.value_name.empty() ? "" : "=" + f.value_name);
}

// A flag's help and default, in lines of at most `width` characters: the
// help is cut at spaces, the default stays in one piece (a longer word or
// default stands alone on its line).
std::vector<std::string> help_lines(const flag& f, std::size_t width) {
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at < f.help.size()) {
    const auto space = std::min(f.help.find(' ', at), f.help.size());
    if (space > at)
      words.push_back(f.help.substr(at, space - at));
    at = space + 1;
  }
  if (!f.default_text.empty())
    words.push_back("(default " + f.default_text + ")");
  std::vector<std::string> lines;
  std::string line;
  for (const auto& word : words) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty())
    lines.push_back(line);
  return lines;
}

// A flag's lines in the usage: its spelling, then from `column` on its help
// and default, then its details.
std::string usage_of(const flag& f, std::size_t column) {
  const std::string indent(column, ' ');
  const auto term = "  " + spelling(f);
  std::string out;
  const auto lines = help_lines(f, usage_width - column);
  std::string first = indent; // where the help's first line starts
  if (term.size() + 2 > column || lines.empty())
    out += term + '\n';
  else
    first.replace(0, term.size(), term);
  for (std::size_t l = 0; l < lines.size(); ++l)
    out += (l == 0 ? first : indent) + lines[l] + '\n';
  std::size_t at = 0;
  while (at < f.details.size()) {
    const auto end = std::min(f.details.find('\n', at), f.details.size());
    out += indent + "  " + f.details.substr(at, end - at) + '\n';
    at = end + 1;
  }
  return out;
}

} // namespace

flag flag::default_is(std::string text) && {
  default_text = std::move(text);
  return std::move(*this);
}

flag flag::with_details(std::string text) && {
  details = std::move(text);
  return std::move(*this);
}

flag help_flag() {
  return {"help", "", "this text", "", "", nullptr};
}

flag switch_flag(std::string name, std::string help, bool& target) {
  return {std::move(name), "", std::move(help), "", "", [&target](const std::string&) {
            target = true;
            return std::string{};
          }};
}

flag text_flag(std::string name, std::string value_name, std::string help, std::string& target) {
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          target,
          "",
          [&target](const std::string& v) {
            target = v;
            return std::string{};
          }};
}

flag text_flag(std::string name, std::string value_name, std::string help,
               std::optional<std::string>& target) {
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          target.value_or(""),
          "",
          [&target](const std::string& v) {
            target = v;
            return std::string{};
          }};
}

flag real_flag(std::string name, std::string value_name, std::string help, double& target,
               bool (*ok)(double), std::string expected, std::string hint) {
  char shown[32];
  std::snprintf(shown, sizeof shown, "%g", target);
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          shown,
          "",
          [&target, ok, expected, hint](const std::string& v) {
            auto x = parse_real(v);
            if (!x || !ok(*x))
              return expects(expected, v) + hint;
            target = *x;
            return std::string{};
          }};
}

flag choice_flag(std::string name, std::string value_name, std::string help, std::string& target,
                 std::vector<std::string> choices) {
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          target,
          "",
          [&target, choices](const std::string& v) {
            if (std::find(choices.begin(), choices.end(), v) == choices.end())
              return expects(one_of(choices), v);
            target = v;
            return std::string{};
          }};
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

flag_parser::flag_parser(std::string program, std::string intro, std::vector<flag_group> groups,
                         std::string outro)
  : program_(std::move(program)),
    intro_(std::move(intro)),
    groups_(std::move(groups)),
    outro_(std::move(outro)) {}

std::string flag_parser::usage() const {
  std::size_t column = narrowest_column;
  for (const auto& g : groups_)
    for (const auto& f : g.flags)
      column = std::max(column, 2 + spelling(f).size() + 2);
  column = std::min(column, widest_column);
  std::string out = intro_;
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    out += (i == 0 ? "" : "\n") + groups_[i].heading + '\n';
    for (const auto& f : groups_[i].flags)
      out += usage_of(f, column);
  }
  return out + outro_;
}

const flag* flag_parser::find(const std::string& name) const {
  for (const auto& g : groups_)
    for (const auto& f : g.flags)
      if (f.name == name)
        return &f;
  return nullptr;
}

bool flag_parser::given(const std::string& name) const {
  return std::find(given_.begin(), given_.end(), name) != given_.end();
}

std::optional<int> flag_parser::parse(int argc, char** argv) {
  auto fail = [this](const std::string& msg) {
    std::cerr << program_ << ": " << msg << "\n(see " << program_ << " --help)\n";
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    // --help's entry in the table (help_flag) has no setter: it is answered here.
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
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
    if (f->value_name.empty()) {
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
    given_.push_back(name);
  }
  return std::nullopt;
}

} // namespace lb::tools
