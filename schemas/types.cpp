// Vocabulary of PROTOCOL.md: enum names and the name rules of section 2.
#include "schemas/types.hpp"

#include <array>

namespace lb::schemas {

const char* to_string(board_order x) {
  switch (x) {
    case board_order::desc:
      return "desc";
    case board_order::asc:
      return "asc";
  }
  return "?";
}

const char* to_string(score_operator x) {
  switch (x) {
    case score_operator::best:
      return "best";
    case score_operator::set:
      return "set";
    case score_operator::incr:
      return "incr";
    case score_operator::decr:
      return "decr";
  }
  return "?";
}

const char* to_string(error_code x) {
  switch (x) {
    case error_code::bad_request:
      return "bad_request";
    case error_code::unknown_op:
      return "unknown_op";
    case error_code::not_found:
      return "not_found";
    case error_code::conflict:
      return "conflict";
    case error_code::overloaded:
      return "overloaded";
    case error_code::unauthorized:
      return "unauthorized";
    case error_code::internal:
      return "internal";
  }
  return "internal";
}

std::optional<board_order> parse_board_order(std::string_view s) {
  if (s == "desc")
    return board_order::desc;
  if (s == "asc")
    return board_order::asc;
  return std::nullopt;
}

std::optional<score_operator> parse_score_operator(std::string_view s) {
  if (s == "best")
    return score_operator::best;
  if (s == "set")
    return score_operator::set;
  if (s == "incr")
    return score_operator::incr;
  if (s == "decr")
    return score_operator::decr;
  return std::nullopt;
}

std::string to_string(const top_cursor& c) {
  static const char digits[] = "0123456789abcdef";
  std::string s(top_cursor_len, '0');
  std::size_t at = 0;
  for (uint64_t v : {c.primary, c.secondary, c.seq})
    for (int shift = 60; shift >= 0; shift -= 4)
      s[at++] = digits[(v >> shift) & 15];
  return s;
}

std::optional<top_cursor> parse_top_cursor(std::string_view s) {
  if (s.size() != top_cursor_len)
    return std::nullopt;
  uint64_t v[3] = {0, 0, 0};
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<unsigned>(c - 'a' + 10);
    else
      return std::nullopt;
    v[i / 16] = (v[i / 16] << 4) | d;
  }
  return top_cursor{v[0], v[1], v[2]};
}

namespace {

constexpr std::array<bool, 256> make_board_chars() {
  std::array<bool, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c)
    t[static_cast<std::size_t>(c)] = true;
  t['_'] = t['.'] = t[':'] = t['-'] = true;
  return t;
}
constexpr std::array<bool, 256> board_chars = make_board_chars();

std::string hex_byte(unsigned char c) {
  static const char digits[] = "0123456789abcdef";
  std::string s = "0x";
  s += digits[c >> 4];
  s += digits[c & 15];
  return s;
}

std::string length_problem(const char* what, std::size_t n, std::size_t max) {
  if (n == 0)
    return std::string(what) + ": empty, 1.." + std::to_string(max) + " bytes allowed";
  return std::string(what) + ": " + std::to_string(n) + " bytes, at most " + std::to_string(max)
         + " allowed";
}

bool is_cont(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// A board name's rules, which a source's follow too: a source names a topic
// of the update stream, as a board does.
std::string check_plain_name(const char* what, std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max)
    return length_problem(what, s.size(), max);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!board_chars[c])
      return std::string(what) + ": invalid character " + hex_byte(c) + " at byte "
             + std::to_string(i) + " (allowed: A-Z a-z 0-9 _ . : -)";
  }
  return {};
}

} // namespace

std::string check_board_name(std::string_view s) {
  return check_plain_name("board", s, max_board_len);
}

std::string check_source_name(std::string_view s) {
  return check_plain_name("source", s, max_source_len);
}

// Validates UTF-8 per Unicode table 3-7 (well-formed byte sequences): no
// overlong forms, no surrogates (U+D800..DFFF), nothing above U+10FFFF, and
// no NUL. Byte offsets in messages count from 0 and point at the first byte
// of the offending sequence.
std::string check_player_name(std::string_view s) {
  if (s.empty() || s.size() > max_player_len)
    return length_problem("player", s.size(), max_player_len);
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto bad = [&](const std::string& why) {
    return "player: invalid UTF-8 at byte " + std::to_string(i) + " (" + why + ")";
  };
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == 0)
        return "player: NUL at byte " + std::to_string(i);
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (c < 0xC0)
      return bad("unexpected continuation byte");
    if (c < 0xC2)
      return bad("overlong encoding");
    if (c < 0xE0) {
      len = 2;
    } else if (c < 0xF0) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0; // else overlong
      else if (c == 0xED)
        hi = 0x9F; // else a surrogate
    } else if (c < 0xF5) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90; // else overlong
      else if (c == 0xF4)
        hi = 0x8F; // else above U+10FFFF
    } else {
      return bad(c <= 0xF7 ? std::string("above U+10FFFF") : "invalid byte " + hex_byte(c));
    }
    if (n - i < len)
      return bad("truncated sequence");
    const unsigned char c1 = p[i + 1];
    if (c1 < lo || c1 > hi) {
      if (!is_cont(c1))
        return bad("incomplete sequence");
      if (c == 0xE0 || c == 0xF0)
        return bad("overlong encoding");
      if (c == 0xED)
        return bad("surrogate");
      return bad("above U+10FFFF");
    }
    for (std::size_t k = 2; k < len; ++k)
      if (!is_cont(p[i + k]))
        return bad("incomplete sequence");
    i += len;
  }
  return {};
}

} // namespace lb::schemas
