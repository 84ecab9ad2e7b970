// Command-line flags as people type them: `--name=value` and `--name value`,
// a clear message and exit code 2 for anything unknown or malformed.
//
// A program lists its flags once, in a table: each flag is bound to the
// variable it sets. The usage text is printed from the table and shows as a
// flag's default the value its variable holds when the table is built, so a
// default is written in one place: where the variable is declared.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tools/common/numbers.hpp"

namespace lb::tools {

struct flag {
  std::string name;         // typed as --name
  std::string value_name;   // how the usage names its value ("N", "EP"); empty: a switch
  std::string help;         // one paragraph, which the usage wraps
  std::string default_text; // shown as "(default ...)" after the help; empty: none
  std::string details;      // lines shown as they are, under the help
  // Sets the variable from the text typed; returns what is wrong with the
  // text ("expects ..."), or "". None for --help, which the parser answers.
  std::function<std::string(const std::string&)> set;

  // The usage shows `text` as the default instead of the variable's value,
  // for a value that stands for something else; none when `text` is empty.
  flag default_is(std::string text) &&;
  flag with_details(std::string text) &&;
};

// "a, b or c": the choices a message names.
std::string one_of(const std::vector<std::string>& names);

// --help: the usage text, then exit 0.
flag help_flag();

// --name with no value: sets `target` to true.
flag switch_flag(std::string name, std::string help, bool& target);

// Text, as typed. For an optional target, --name= gives an empty text
// while a flag not given leaves the target empty.
flag text_flag(std::string name, std::string value_name, std::string help, std::string& target);
flag text_flag(std::string name, std::string value_name, std::string help,
               std::optional<std::string>& target);

namespace detail {
template <class T>
struct same {
  using type = T;
};

// Calls `assign` with a whole number typed in [min, max].
template <class T, class Assign>
std::function<std::string(const std::string&)> whole_setter(T min, T max, Assign assign) {
  return [min, max, assign](const std::string& v) {
    auto x = parse_whole(v, min, max);
    if (!x)
      return expects(whole_number(min, max), v);
    assign(*x);
    return std::string{};
  };
}
} // namespace detail

// A whole number in [min, max]; a std::chrono::duration gets it as its count.
template <class T>
flag whole_flag(std::string name, std::string value_name, std::string help, T& target,
                typename detail::same<T>::type min, typename detail::same<T>::type max) {
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          std::to_string(target),
          "",
          detail::whole_setter(min, max, [&target](T x) { target = x; })};
}

template <class Rep, class Period>
flag whole_flag(std::string name, std::string value_name, std::string help,
                std::chrono::duration<Rep, Period>& target, typename detail::same<Rep>::type min,
                typename detail::same<Rep>::type max) {
  return {std::move(name),
          std::move(value_name),
          std::move(help),
          std::to_string(target.count()),
          "",
          detail::whole_setter(min, max, [&target](Rep x) {
            target = std::chrono::duration<Rep, Period>(x);
          })};
}

// A real number for which `ok` holds. Messages say it expects `expected`,
// followed by `hint`.
flag real_flag(std::string name, std::string value_name, std::string help, double& target,
               bool (*ok)(double), std::string expected, std::string hint = "");

// One of `choices`, each named by to_string(choice) (found by ADL). The
// target is the choice's type or a std::optional of it.
template <class T, class Choice>
flag choice_flag(std::string name, std::string value_name, std::string help, T& target,
                 std::vector<Choice> choices) {
  std::vector<std::string> names;
  for (const auto& c : choices)
    names.emplace_back(to_string(c));
  std::string shown;
  for (const auto& c : choices)
    if (target == c)
      shown = to_string(c);
  flag f{std::move(name), std::move(value_name), std::move(help), shown, {}, {}};
  f.set = [&target, choices = std::move(choices), names](const std::string& v) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (names[i] == v) {
        target = choices[i];
        return std::string{};
      }
    return expects(one_of(names), v);
  };
  return f;
}

flag choice_flag(std::string name, std::string value_name, std::string help, std::string& target,
                 std::vector<std::string> choices);

// One heading of the usage text and the flags listed under it.
struct flag_group {
  std::string heading; // e.g. "options (--name=value or --name value):"
  std::vector<flag> flags;
};

class flag_parser {
public:
  // The usage text: `intro`, then each group's heading and flags, then
  // `outro`.
  flag_parser(std::string program, std::string intro, std::vector<flag_group> groups,
              std::string outro);

  // Parses argv, setting each flag's variable as it comes; arguments that
  // are not flags land in positional(). Returns an exit code when the
  // program should stop now (0 after --help, 2 on an error, with the message
  // printed), nothing when it should go on.
  std::optional<int> parse(int argc, char** argv);

  const std::vector<std::string>& positional() const { return positional_; }
  // Whether --name was on the command line.
  bool given(const std::string& name) const;
  // The flags on the command line, in the order given.
  const std::vector<std::string>& given() const { return given_; }
  std::string usage() const;

private:
  const flag* find(const std::string& name) const;

  std::string program_;
  std::string intro_;
  std::vector<flag_group> groups_;
  std::string outro_;
  std::vector<std::string> positional_;
  std::vector<std::string> given_;
};

} // namespace lb::tools
