#include "actors/storage/log_format.hpp"

#include <chrono>

#include <xxhash.h>

#include "actors/storage/status.hpp"

namespace lb::storage {

namespace {

constexpr std::string_view segment_magic = "LBDEVLOG";
constexpr std::string_view snapshot_magic = "LBDSNAPS";

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}

void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

} // namespace

std::string_view magic_of(file_kind kind) {
  return kind == file_kind::segment ? segment_magic : snapshot_magic;
}

std::string file_header(file_kind kind, uint64_t seq) {
  std::string h(magic_of(kind));
  put_u32(h, log_format_version);
  put_u32(h, file_header_size);
  put_u64(h, seq);
  return h;
}

void append_record(std::string& out, std::string_view body) {
  if (body.empty() || body.size() > max_record_body)
    throw storage_error(status::error("a record body of " + std::to_string(body.size())
                                      + " bytes is outside 1.." + std::to_string(max_record_body)
                                      + " (a bug in the writer)"));
  put_u32(out, static_cast<uint32_t>(body.size()));
  put_u64(out, XXH3_64bits(body.data(), body.size()));
  out.append(body);
}

file_header_fields parse_file_header(const unsigned char* p) {
  return {std::string_view(reinterpret_cast<const char*>(p), 8), get_u32(p + 8), get_u32(p + 12),
          get_u64(p + 16)};
}

record_header parse_record_header(const unsigned char* p) {
  return {get_u32(p), get_u64(p + 4)};
}

uint64_t body_checksum(const unsigned char* body, std::size_t n) {
  return XXH3_64bits(body, n);
}

bool can_start_body(unsigned char first) {
  return (first >= 0x80 && first <= 0x8f) || first == 0xde || first == 0xdf;
}

int64_t wall_clock_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace lb::storage
