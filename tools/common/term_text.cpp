#include "tools/common/term_text.hpp"

namespace lb::tools {

std::string printable(std::string_view s) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    // UTF-8-encoded C1 controls (where CSI lives) act on terminals too.
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80
                    && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      const auto x = c1 ? static_cast<unsigned char>(s[++i]) : c;
      out += "\\x";
      out += digits[x >> 4];
      out += digits[x & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace lb::tools
