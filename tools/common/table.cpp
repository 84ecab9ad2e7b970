#include "tools/common/table.hpp"

#include <algorithm>

namespace lb::tools {

namespace {

// Characters on screen, counting a UTF-8 sequence as one.
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

} // namespace

table::table(std::vector<std::string> header, std::vector<bool> right)
  : header_(std::move(header)), right_(std::move(right)) {}

std::string table::render(const std::string& indent) const {
  std::vector<const std::vector<std::string>*> rows{&header_};
  for (const auto& r : rows_)
    rows.push_back(&r);
  std::vector<std::size_t> widths(header_.size(), 0);
  for (const auto* row : rows)
    for (std::size_t c = 0; c < row->size(); ++c)
      widths[c] = std::max(widths[c], width((*row)[c]));
  std::string out;
  for (const auto* row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row->size(); ++c) {
      const auto& cell = (*row)[c];
      const std::string pad(widths[c] - width(cell), ' ');
      line += (c > 0 ? "  " : "") + (right_[c] ? pad + cell : cell + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  }
  return out;
}

} // namespace lb::tools
