#include "tools/lb-bench/report.hpp"

#include <cstdio>
#include <string>

namespace lb::bench {

namespace {

struct quantile {
  const char* name;
  double q;
};
const quantile quantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string workload_text(const report_setup& s) {
  const auto& w = s.workload;
  std::string t = std::to_string(w.boards) + " board(s), " + std::to_string(w.players)
                  + " players (" + (w.zipf > 0 ? "zipf " + fmt("%.2f", w.zipf) : "uniform")
                  + "), mix " + mix_text(w) + ", scores " + w.scores + " 0.."
                  + std::to_string(w.score_max) + ", seed " + std::to_string(w.seed) + "; "
                  + std::to_string(s.clients) + " clients, ";
  t += s.rate > 0 ? "open loop at " + std::to_string(s.rate) + "/s"
                  : "closed loop, depth " + std::to_string(s.depth);
  return t;
}

// The target's CPU cores per 100,000 ops/s: what a core buys, comparable
// across targets that reached different rates.
std::optional<double> cores_per_100k(const run_result& r) {
  if (!r.cpu_cores || r.throughput <= 0)
    return std::nullopt;
  return *r.cpu_cores / r.throughput * 100000;
}

} // namespace

void print_table(std::ostream& out, const report_setup& s, const std::vector<run_result>& runs) {
  out << "workload: " << workload_text(s) << "\n\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-9s %12s %9s %9s %9s %9s %9s %8s %6s %10s %7s %8s\n", "TARGET",
                "OPS/S", "P50 us", "P90 us", "P99 us", "P99.9 us", "MAX us", "ERRORS", "CPU",
                "CPU/100K", "CS/OP", "RSS MB");
  out << line;
  for (const auto& r : runs) {
    const bool lat = r.latency.count() > 0;
    auto col = [&](uint64_t ns) { return lat ? fmt("%.0f", us(ns)) : std::string("-"); };
    std::snprintf(line, sizeof line, "%-9s %12.0f %9s %9s %9s %9s %9s %8llu %6s %10s %7s %8s\n",
                  r.target.c_str(), r.throughput, col(r.latency.percentile(0.5)).c_str(),
                  col(r.latency.percentile(0.9)).c_str(), col(r.latency.percentile(0.99)).c_str(),
                  col(r.latency.percentile(0.999)).c_str(), col(r.latency.max()).c_str(),
                  static_cast<unsigned long long>(r.errors),
                  r.cpu_cores ? fmt("%.2f", *r.cpu_cores).c_str() : "-",
                  cores_per_100k(r) ? fmt("%.2f", *cores_per_100k(r)).c_str() : "-",
                  r.switches_per_op ? fmt("%.2f", *r.switches_per_op).c_str() : "-",
                  r.rss_bytes ? fmt("%.0f", *r.rss_bytes / 1048576.0).c_str() : "-");
    out << line;
  }
  for (const auto& r : runs)
    if (r.preload_rss_growth && r.preloaded > 0)
      out << "\n"
          << r.target << ": the preload of " << r.preloaded << " entries grew RSS by "
          << fmt("%.1f", *r.preload_rss_growth / 1048576.0)
          << " MB: " << fmt("%.1f", static_cast<double>(*r.preload_rss_growth) / r.preloaded)
          << " bytes per entry\n";
  if (runs.size() > 1) {
    out << "\nratios (same workload, back to back; only compare ratios from one run):\n";
    const auto& a = runs.front();
    for (std::size_t i = 1; i < runs.size(); ++i) {
      const auto& b = runs[i];
      out << "  " << a.target << " / " << b.target << ": throughput "
          << fmt("%.2fx", b.throughput > 0 ? a.throughput / b.throughput : 0);
      if (a.latency.count() > 0 && b.latency.count() > 0)
        for (const auto& q : {quantiles[0], quantiles[2]})
          out << ", " << q.name << " latency "
              << fmt("%.2fx", static_cast<double>(a.latency.percentile(q.q))
                                / std::max<uint64_t>(1, b.latency.percentile(q.q)));
      out << '\n';
    }
  }
}

void print_json(std::ostream& out, const report_setup& s, const std::vector<run_result>& runs) {
  const auto& w = s.workload;
  out << "{\"workload\":{\"boards\":" << w.boards << ",\"players\":" << w.players
      << ",\"zipf\":" << w.zipf << ",\"mix\":" << json_str(mix_text(w))
      << ",\"scores\":" << json_str(w.scores) << ",\"score_max\":" << w.score_max
      << ",\"seed\":" << w.seed << ",\"clients\":" << s.clients << ",\"depth\":" << s.depth
      << ",\"rate\":" << s.rate << ",\"batch\":" << s.batch << "},\"runs\":[";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    out << (i ? "," : "") << "{\"target\":" << json_str(r.target)
        << ",\"endpoint\":" << json_str(r.endpoint)
        << ",\"open_loop\":" << (r.open_loop ? "true" : "false") << ",\"ops\":" << r.ops
        << ",\"errors\":" << r.errors << ",\"seconds\":" << fmt("%.3f", r.seconds)
        << ",\"throughput\":" << fmt("%.1f", r.throughput);
    if (r.target == "ingest")
      out << ",\"sent\":" << r.sent;
    out << ",\"latency_us\":";
    if (r.latency.count() == 0) {
      out << "null";
    } else {
      out << "{\"count\":" << r.latency.count()
          << ",\"mean\":" << fmt("%.1f", r.latency.mean() / 1000);
      for (const auto& q : quantiles)
        out << ",\"" << q.name << "\":" << fmt("%.1f", us(r.latency.percentile(q.q)));
      out << ",\"max\":" << fmt("%.1f", us(r.latency.max())) << "}";
    }
    out << ",\"cpu_cores\":" << (r.cpu_cores ? fmt("%.3f", *r.cpu_cores) : "null")
        << ",\"cores_per_100k\":" << (cores_per_100k(r) ? fmt("%.3f", *cores_per_100k(r)) : "null")
        << ",\"switches_per_op\":" << (r.switches_per_op ? fmt("%.3f", *r.switches_per_op) : "null")
        << ",\"rss_bytes\":" << (r.rss_bytes ? std::to_string(*r.rss_bytes) : "null")
        << ",\"preloaded\":" << r.preloaded << ",\"preload_rss_growth\":"
        << (r.preload_rss_growth ? std::to_string(*r.preload_rss_growth) : "null") << "}";
  }
  out << "],\"ratios\":[";
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const auto& a = runs.front();
    const auto& b = runs[i];
    out << (i > 1 ? "," : "") << "{\"of\":" << json_str(a.target)
        << ",\"to\":" << json_str(b.target)
        << ",\"throughput\":" << fmt("%.4f", b.throughput > 0 ? a.throughput / b.throughput : 0);
    if (a.latency.count() > 0 && b.latency.count() > 0)
      for (const auto& q : {quantiles[0], quantiles[2]})
        out << ",\"" << q.name << "\":"
            << fmt("%.4f", static_cast<double>(a.latency.percentile(q.q))
                             / std::max<uint64_t>(1, b.latency.percentile(q.q)));
    out << "}";
  }
  out << "]}\n";
}

} // namespace lb::bench
