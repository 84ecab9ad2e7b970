// lb-bench output: a table for people, one JSON document for scripts, and the
// ratios between targets run back to back on the same workload.
#pragma once

#include <ostream>
#include <vector>

#include "tools/lb-bench/run.hpp"
#include "tools/lb-bench/workload.hpp"

namespace lb::bench {

struct report_setup {
  workload_options workload;
  uint64_t clients = 0, depth = 0, rate = 0, batch = 0;
};

void print_table(std::ostream& out, const report_setup& s, const std::vector<run_result>& runs);
void print_json(std::ostream& out, const report_setup& s, const std::vector<run_result>& runs);

} // namespace lb::bench
