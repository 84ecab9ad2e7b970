#include "tools/lb-bench/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace lb::bench {

// Values below 2^(sub_bits+1) get a bucket each; above, a value with its top
// bit at position m falls in sub-bucket v >> (m - sub_bits) of its octave.
std::size_t histogram::index_of(uint64_t v) {
  v = std::min<uint64_t>(v, (uint64_t{1} << max_bits) - 1);
  constexpr uint64_t half = uint64_t{1} << sub_bits;
  if (v < 2 * half)
    return static_cast<std::size_t>(v);
  const int msb = 63 - __builtin_clzll(v);
  const int shift = msb - sub_bits;
  return static_cast<std::size_t>(shift) * half + (v >> shift);
}

uint64_t histogram::upper_of(std::size_t idx) {
  constexpr uint64_t half = uint64_t{1} << sub_bits;
  if (idx < 2 * half)
    return idx;
  const uint64_t shift = idx / half - 1;
  const uint64_t sub = idx - shift * half; // in [half, 2 half)
  return ((sub + 1) << shift) - 1;
}

void histogram::record(uint64_t ns) {
  ++counts_[index_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void histogram::merge(const histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t histogram::percentile(double q) const {
  if (count_ == 0)
    return 0;
  const auto want = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= std::max<uint64_t>(want, 1))
      return std::min(upper_of(i), max_);
  }
  return max_;
}

} // namespace lb::bench
