#include "schemas/cron.hpp"

#include <string>
#include <vector>

namespace lb::schemas {

namespace {

// A piece of the expression as an error message shows it: bytes outside
// printable ASCII as \xNN, since the expression comes from a client.
std::string shown(std::string_view s) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

struct field_spec {
  const char* name;
  unsigned lo;
  unsigned hi;
  // Three-letter names, index 0 meaning value `name_base`; nullptr if none.
  const char* const* names;
  unsigned name_count;
  unsigned name_base;
};

const char* const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const field_spec sec_spec{"sec", 0, 59, nullptr, 0, 0};
const field_spec min_spec{"min", 0, 59, nullptr, 0, 0};
const field_spec hour_spec{"hour", 0, 23, nullptr, 0, 0};
const field_spec dom_spec{"dom", 1, 31, nullptr, 0, 0};
const field_spec mon_spec{"mon", 1, 12, month_names, 12, 1};
const field_spec dow_spec{"dow", 0, 7, day_names, 7, 0};

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string range_text(unsigned lo, unsigned hi) {
  return std::to_string(lo) + "-" + std::to_string(hi);
}

// A value is digits or (for mon and dow) a three-letter name. Digits are
// capped while reading so a 40-digit number reports as out of range rather
// than wrapping into it.
bool parse_value(std::string_view s, const field_spec& f, unsigned& out, std::string& err) {
  if (s.empty()) {
    err = "missing number";
    return false;
  }
  if (is_digit(s[0])) {
    uint64_t v = 0;
    bool overflow = false;
    for (char c : s) {
      if (!is_digit(c)) {
        err = "'" + shown(s) + "' is not a number";
        return false;
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
      if (v > 1000000) {
        overflow = true;
        v = 1000000;
      }
    }
    if (overflow || v < f.lo || v > f.hi) {
      err = std::string(s) + " is out of range " + range_text(f.lo, f.hi);
      return false;
    }
    out = static_cast<unsigned>(v);
    return true;
  }
  if (f.names != nullptr && s.size() == 3) {
    for (unsigned i = 0; i < f.name_count; ++i) {
      const char* n = f.names[i];
      if (lower(s[0]) == n[0] && lower(s[1]) == n[1] && lower(s[2]) == n[2]) {
        out = f.name_base + i;
        return true;
      }
    }
  }
  err = "'" + shown(s) + "' is not a " + (f.names != nullptr ? "number or name" : "number");
  return false;
}

// One comma-separated item: `*`, `a`, `a-b`, each optionally followed by `/n`.
bool parse_item(std::string_view s, const field_spec& f, uint64_t& bits, std::string& err) {
  if (s.empty()) {
    err = "empty list element";
    return false;
  }
  std::string_view base = s;
  unsigned step = 1;
  bool has_step = false;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    base = s.substr(0, slash);
    std::string_view st = s.substr(slash + 1);
    has_step = true;
    if (st.empty()) {
      err = "missing step after '/'";
      return false;
    }
    uint64_t v = 0;
    for (char c : st) {
      if (!is_digit(c)) {
        err = "step '" + shown(st) + "' is not a number";
        return false;
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
      if (v > 1000000)
        v = 1000000;
    }
    if (v == 0) {
      err = "step 0 is not allowed";
      return false;
    }
    // A step as large as the field matches only the start: almost surely a
    // mistake (`*/60` for minutes), so it is refused like cronie does.
    if (v > f.hi) {
      err = "step " + std::string(st) + " is out of range 1-" + std::to_string(f.hi);
      return false;
    }
    step = static_cast<unsigned>(v);
  }
  unsigned lo = f.lo;
  unsigned hi = f.hi;
  if (base == "*") {
    // the whole range
  } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
    if (!parse_value(base.substr(0, dash), f, lo, err)
        || !parse_value(base.substr(dash + 1), f, hi, err))
      return false;
    if (lo > hi) {
      err = "reversed range " + shown(base);
      return false;
    }
  } else {
    if (!parse_value(base, f, lo, err))
      return false;
    // `a/n` is Vixie's shorthand for `a-max/n`.
    hi = has_step ? f.hi : lo;
  }
  for (unsigned v = lo; v <= hi; v += step)
    bits |= uint64_t{1} << v;
  return true;
}

bool parse_field(std::string_view s, const field_spec& f, uint64_t& bits, std::string& err) {
  bits = 0;
  for (;;) {
    auto comma = s.find(',');
    if (!parse_item(s.substr(0, comma), f, bits, err))
      return false;
    if (comma == std::string_view::npos)
      return true;
    s.remove_prefix(comma + 1);
  }
}

// Howard Hinnant's days_from_civil and civil_from_days
// (http://howardhinnant.github.io/date_algorithms.html), on int64 so any
// epoch-ms input stays in range.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

// 1970-01-01 was a Thursday.
unsigned weekday_from_days(int64_t z) {
  return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The lowest set bit >= from, or -1.
int next_bit(uint64_t bits, unsigned from) {
  if (from >= 64)
    return -1;
  uint64_t rest = bits & (~uint64_t{0} << from);
  return rest == 0 ? -1 : __builtin_ctzll(rest);
}

// 5 × 366 days: every four-year window holds a Feb 29 (2100 aside), so any
// schedule that fires at all fires within it.
constexpr int64_t search_days = 5 * 366;

} // namespace

std::optional<cron_schedule> cron_schedule::parse(std::string_view text, std::string* why) {
  auto fail = [why](std::string msg) -> std::optional<cron_schedule> {
    if (why != nullptr)
      *why = std::move(msg);
    return std::nullopt;
  };
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  if (text.size() > max_cron_len)
    return fail("expression is " + std::to_string(text.size()) + " characters, longer than "
                + std::to_string(max_cron_len));
  std::vector<std::string_view> fields;
  for (std::size_t i = 0; i < text.size();) {
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && !is_blank(text[j]))
      ++j;
    fields.push_back(text.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5 && fields.size() != 6)
    return fail("expected 5 or 6 fields, got " + std::to_string(fields.size()));
  cron_schedule out;
  out.text_ = std::string(text);
  out.has_seconds_ = fields.size() == 6;
  const field_spec* specs[] = {&sec_spec, &min_spec, &hour_spec, &dom_spec, &mon_spec, &dow_spec};
  uint64_t* targets[] = {&out.sec_, &out.min_, &out.hour_, &out.dom_, &out.mon_, &out.dow_};
  const std::size_t first = out.has_seconds_ ? 0 : 1;
  if (!out.has_seconds_)
    out.sec_ = 1;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const field_spec& f = *specs[first + i];
    std::string err;
    if (!parse_field(fields[i], f, *targets[first + i], err))
      return fail("field " + std::to_string(i + 1) + " (" + f.name + "): " + err);
  }
  if (out.dow_ & (uint64_t{1} << 7))
    out.dow_ = (out.dow_ | 1) & ~(uint64_t{1} << 7);
  out.dom_star_ = fields[3 - first].front() == '*';
  out.dow_star_ = fields[5 - first].front() == '*';
  return out;
}

std::optional<int64_t> cron_schedule::next_after(int64_t after_ms) const {
  // Strictly after: the first whole second past after_ms.
  int64_t t = floor_div(after_ms, 1000) + 1;
  const int64_t limit = t + search_days * 86400;
  // Each failing test jumps to the start of the next candidate unit, so the
  // loop runs at most a few times per day in the window, never per second.
  while (t <= limit) {
    const int64_t days = floor_div(t, 86400);
    const int64_t sod = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (!(mon_ >> m & 1)) {
      t = (m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1)) * 86400;
      continue;
    }
    const bool dom_ok = dom_ >> d & 1;
    const bool dow_ok = dow_ >> weekday_from_days(days) & 1;
    if (!((dom_star_ || dow_star_) ? dom_ok && dow_ok : dom_ok || dow_ok)) {
      t = (days + 1) * 86400;
      continue;
    }
    const auto h = static_cast<unsigned>(sod / 3600);
    const auto mi = static_cast<unsigned>(sod / 60 % 60);
    const auto s = static_cast<unsigned>(sod % 60);
    const int nh = next_bit(hour_, h);
    if (nh < 0) {
      t = (days + 1) * 86400;
      continue;
    }
    if (static_cast<unsigned>(nh) != h) {
      t = days * 86400 + nh * 3600;
      continue;
    }
    const int nmi = next_bit(min_, mi);
    if (nmi < 0) {
      t = days * 86400 + (h + 1) * 3600;
      continue;
    }
    if (static_cast<unsigned>(nmi) != mi) {
      t = days * 86400 + h * 3600 + nmi * 60;
      continue;
    }
    const int ns = next_bit(sec_, s);
    if (ns < 0) {
      t = days * 86400 + h * 3600 + (mi + 1) * 60;
      continue;
    }
    t = days * 86400 + h * 3600 + mi * 60 + ns;
    if (t > limit || t > INT64_MAX / 1000)
      return std::nullopt;
    return t * 1000;
  }
  return std::nullopt;
}

std::string schedule_problem(std::string_view text) {
  if (text.size() > max_cron_len)
    return std::to_string(text.size()) + " bytes, at most " + std::to_string(max_cron_len)
           + " allowed";
  std::string why;
  if (!text.empty() && !cron_schedule::parse(text, &why))
    return why;
  return {};
}

} // namespace lb::schemas
