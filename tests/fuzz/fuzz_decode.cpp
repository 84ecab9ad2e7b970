// libFuzzer target for the request codec.
//
//   clang++ -std=c++17 -O1 -g -I. -DMSGPACK_NO_BOOST -fsanitize=fuzzer,address,undefined \
//     schemas/*.cpp tests/fuzz_decode.cpp -o /tmp/fuzz
//   /tmp/fuzz -max_total_time=120 -max_len=65536 tests/fuzz/corpus
//
// For every input: decode_request and decode_ingest must not crash; every
// successful decode must survive encode_request -> decode again unchanged
// (its source included);
// error messages must be printable ASCII (they go into msgpack str); an
// input that check_frame() accepts must render as JSON without throwing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <variant>

#include "schemas/json.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"
#include "tests/unit/request_eq.hpp"

using namespace lb::schemas;

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_decode: %s\n", what);
  std::abort();
}

using lb::schemas::testing::eq;

void check_message(const error& e) {
  for (char c : e.message)
    if (c < 0x20 || c > 0x7e)
      die("error message is not printable ASCII");
}

void check(const decoded_request& d, const char* data, std::size_t size,
           decoded_request (*decode)(const char*, std::size_t)) {
  if (d.body.valueless_by_exception())
    die("valueless result");
  // A source is read on ingest only, and only a valid one: it names a topic.
  if (d.source && (decode != &decode_ingest || !check_source_name(*d.source).empty()))
    die("decode kept a source it should not have");
  if (!d.ok()) {
    const error& e = std::get<error>(d.body);
    check_message(e);
    if (e.code != error_code::bad_request && e.code != error_code::unknown_op)
      die("unexpected error code");
    // the error reply must encode and render
    const std::string reply = encode_reply(d.id, e);
    (void) msgpack_to_json(reply.data(), reply.size());
    return;
  }
  if (!check_frame(data, size).empty())
    die("decode accepted a frame that check_frame refuses");
  const request_body& body = std::get<request_body>(d.body);
  if (const auto* b = std::get_if<batch_req>(&body))
    for (const auto& item : b->items)
      if (const auto* e = std::get_if<error>(&item))
        check_message(*e);
  const std::string again = encode_request(d.id, body, d.source.value_or(""));
  const decoded_request d2 = decode(again.data(), again.size());
  if (!d2.ok())
    die("re-encoded request does not decode");
  if (d2.id != d.id)
    die("id changed in the round trip");
  if (d2.source != d.source)
    die("source changed in the round trip");
  if (!eq(std::get<request_body>(d2.body), body))
    die("request changed in the round trip");
  // encoding is deterministic: a second round gives the same bytes
  if (encode_request(d2.id, std::get<request_body>(d2.body), d2.source.value_or("")) != again)
    die("encoding is not stable");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* p = reinterpret_cast<const char*>(data);
  check(decode_request(p, size), p, size, &decode_request);
  check(decode_ingest(p, size), p, size, &decode_ingest);
  const bool well_formed = check_frame(p, size).empty();
  try {
    (void) msgpack_to_json(p, size);
  } catch (const std::runtime_error&) {
    if (well_formed)
      die("msgpack_to_json threw on a well-formed frame");
  }
  return 0;
}
