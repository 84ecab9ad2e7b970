#include "tools/common/numbers.hpp"

#include <cmath>

namespace lb::tools {

std::optional<double> parse_real(std::string_view text) {
  double x = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, x);
  if (ec != std::errc{} || stop != end || !std::isfinite(x))
    return std::nullopt;
  return x;
}

std::string expects(std::string_view expected, std::string_view text) {
  std::string out = "expects ";
  out += expected;
  out += ", got '";
  out += text;
  out += "'";
  return out;
}

} // namespace lb::tools
