// A table for a terminal, shared by lbctl and lb-replay: columns two spaces
// apart, right-aligned columns (numbers) padded on the left, the others on
// the right, widths counted in characters on screen.
//
// Every row, the header included, has one cell per column.
#pragma once

#include <string>
#include <vector>

namespace lb::tools {

class table {
public:
  // `right[c]`: column c aligns right.
  table(std::vector<std::string> header, std::vector<bool> right);

  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  // The header and the rows, one line each, every line starting with
  // `indent` and without trailing spaces.
  std::string render(const std::string& indent = "") const;

private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

} // namespace lb::tools
