// Numbers in text, as people type them on a command line or the kernel
// writes them in /proc: one reading and one wording for every program, so
// that `--limit=x` and `--shards=x` fail alike.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace lb::tools {

// The whole number that all of `text` spells in decimal (no spaces, no '+'),
// if it lies in [min, max]; nothing otherwise.
template <class T>
std::optional<T> parse_whole(std::string_view text, T min = std::numeric_limits<T>::min(),
                             T max = std::numeric_limits<T>::max()) {
  static_assert(std::is_integral_v<T>);
  T x{};
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, x);
  if (ec != std::errc{} || stop != end || x < min || x > max)
    return std::nullopt;
  return x;
}

// The finite number that all of `text` spells in decimal (5, 0.5, 1e3); nothing
// otherwise. Unlike strtod it ignores the locale.
std::optional<double> parse_real(std::string_view text);

// How messages name a whole number in [min, max]: "a whole number from 1 to
// 1000", or for the whole of int64 "a whole number that fits in 64 bits
// (int64)".
template <class T>
std::string whole_number(T min, T max) {
  static_assert(std::is_integral_v<T>);
  if constexpr (std::is_same_v<T, int64_t>)
    if (min == std::numeric_limits<T>::min() && max == std::numeric_limits<T>::max())
      return "a whole number that fits in 64 bits (int64)";
  return "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
}

// The one wording for a value that a flag or argument does not take:
// "expects <expected>, got '<text>'"; the caller puts the flag's name first.
std::string expects(std::string_view expected, std::string_view text);

} // namespace lb::tools
