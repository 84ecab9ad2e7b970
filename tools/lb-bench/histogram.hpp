// Latency histogram with fixed log-linear buckets (the HdrHistogram layout):
// 64 linear sub-buckets per power of two, so any recorded value is reported
// within 1.6% of itself, in a fixed 18 KiB whatever the run's length. Each
// client thread records into its own and they are merged at the end.
#pragma once

#include <array>
#include <cstdint>

namespace lb::bench {

class histogram {
public:
  // Nanoseconds; values past ~18 minutes land in the last bucket.
  void record(uint64_t ns);
  void merge(const histogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The smallest bucket upper bound with at least q (0..1) of the values at
  // or below it, capped at the maximum seen; 0 when empty.
  uint64_t percentile(double q) const;

private:
  static constexpr int sub_bits = 6;  // 64 sub-buckets
  static constexpr int max_bits = 40; // 2^40 ns
  static constexpr int buckets = (max_bits - sub_bits + 1) * (1 << sub_bits) + (1 << sub_bits);
  static std::size_t index_of(uint64_t v);
  static uint64_t upper_of(std::size_t idx);

  std::array<uint64_t, buckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

} // namespace lb::bench
