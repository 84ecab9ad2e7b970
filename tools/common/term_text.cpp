#include "tools/common/term_text.hpp"

namespace lb::tools {

namespace {

const char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, unsigned char c) {
  out += hex_digits[c >> 4];
  out += hex_digits[c & 15];
}

} // namespace

std::string printable(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    // UTF-8-encoded C1 controls (where CSI lives) act on terminals too.
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80
                    && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      out += "\\x";
      append_hex(out, c1 ? static_cast<unsigned char>(s[++i]) : c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string hex_text(std::string_view bytes) {
  std::string out = "0x";
  for (unsigned char c : bytes)
    append_hex(out, c);
  return out;
}

std::string count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

} // namespace lb::tools
