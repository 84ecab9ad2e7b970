// Cron schedule tests: parse errors name their field, next_after against
// hand-checked instants, and a cross-check against a naive search that
// shares no code with the parser or the calendar jumps.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "schemas/cron.hpp"

using namespace lb::schemas;

namespace {

// The test's own civil conversion, so expected instants do not come from
// the code under test.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t at(int64_t y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

cron_schedule must_parse(const std::string& text) {
  std::string why;
  auto c = cron_schedule::parse(text, &why);
  INFO(text, ": ", why);
  REQUIRE(c.has_value());
  return *c;
}

std::string parse_error(const std::string& text) {
  std::string why;
  auto c = cron_schedule::parse(text, &why);
  INFO(text);
  CHECK_FALSE(c.has_value());
  return why;
}

} // namespace

TEST_CASE("the civil helper agrees with date -u") {
  // date -u -d @1796169600 -> Wed Dec  2 00:00:00 UTC 2026
  CHECK(at(2026, 12, 2) == 1796169600000);
  CHECK(at(1970, 1, 1) == 0);
  // date -u -d @951782400 -> Tue Feb 29 00:00:00 UTC 2000
  CHECK(at(2000, 2, 29) == 951782400000);
}

TEST_CASE("parse errors name the field and the problem") {
  CHECK(parse_error("* * *") == "expected 5 or 6 fields, got 3");
  CHECK(parse_error("") == "expected 5 or 6 fields, got 0");
  CHECK(parse_error(" \t ") == "expected 5 or 6 fields, got 0");
  CHECK(parse_error("* * * * * * *") == "expected 5 or 6 fields, got 7");
  CHECK(parse_error("0 25 * * *") == "field 2 (hour): 25 is out of range 0-23");
  CHECK(parse_error("60 * * * *") == "field 1 (min): 60 is out of range 0-59");
  CHECK(parse_error("60 * * * * *") == "field 1 (sec): 60 is out of range 0-59");
  CHECK(parse_error("0 0 0 * *") == "field 3 (dom): 0 is out of range 1-31");
  CHECK(parse_error("0 0 * 13 *") == "field 4 (mon): 13 is out of range 1-12");
  CHECK(parse_error("0 0 * * 8") == "field 5 (dow): 8 is out of range 0-7");
  CHECK(parse_error("*/0 * * * *") == "field 1 (min): step 0 is not allowed");
  CHECK(parse_error("* 5-2 * * *") == "field 2 (hour): reversed range 5-2");
  CHECK(parse_error("1,,2 * * * *") == "field 1 (min): empty list element");
  CHECK(parse_error("1, * * * *") == "field 1 (min): empty list element");
  CHECK(parse_error("* * * * x") == "field 5 (dow): 'x' is not a number or name");
  CHECK(parse_error("* 1x * * *") == "field 2 (hour): '1x' is not a number");
  CHECK(parse_error("* * * FOO *") == "field 4 (mon): 'FOO' is not a number or name");
  CHECK(parse_error("* * * * MONDAY") == "field 5 (dow): 'MONDAY' is not a number or name");
  CHECK(parse_error("* * JAN * *") == "field 3 (dom): 'JAN' is not a number");
  CHECK(parse_error("99999999999999999999999 * * * *")
        == "field 1 (min): 99999999999999999999999 is out of range 0-59");
  CHECK(parse_error("*/99999999999999999999 * * * *")
        == "field 1 (min): step 99999999999999999999 is out of range 1-59");
  CHECK(parse_error("*/60 * * * *") == "field 1 (min): step 60 is out of range 1-59");
  CHECK(parse_error("*/ * * * *") == "field 1 (min): missing step after '/'");
  CHECK(parse_error("*/a * * * *") == "field 1 (min): step 'a' is not a number");
  CHECK(parse_error("-5 * * * *") == "field 1 (min): missing number");
  CHECK(parse_error("1-2-3 * * * *") == "field 1 (min): '2-3' is not a number");
  CHECK(parse_error("*-5 * * * *") == "field 1 (min): '*' is not a number");
  CHECK(parse_error("0 0 * * *\n") == "field 5 (dow): '*\\x0a' is not a number or name");
  CHECK(parse_error("0 0 * * * " + std::string(200, '1')).find("longer than 128")
        != std::string::npos);
  // Errors in later fields are still found when earlier ones are fine.
  CHECK(parse_error("0 0 1 1 1 9") == "field 6 (dow): 9 is out of range 0-7");
  // A null `why` is allowed.
  CHECK_FALSE(cron_schedule::parse("bad", nullptr).has_value());
}

TEST_CASE("text is trimmed and the field count decides has_seconds") {
  auto c = must_parse(" \t0  0\t* * 1 \t");
  CHECK(c.text() == "0  0\t* * 1");
  CHECK_FALSE(c.has_seconds());
  CHECK(must_parse("0 0 0 * * 1").has_seconds());
  // Exactly the limit is fine once trimmed.
  std::string list = "0";
  while (list.size() + 2 + 9 <= max_cron_len)
    list += ",0";
  std::string text = list + " * * * *";
  REQUIRE(text.size() <= max_cron_len);
  must_parse("   " + text + "   ");
}

TEST_CASE("steps, ranges and lists") {
  const int64_t noon = at(2026, 12, 2, 12);
  CHECK(must_parse("*/15 * * * *").next_after(noon + (7 * 60 + 30) * 1000)
        == at(2026, 12, 2, 12, 15));
  CHECK(must_parse("*/15 * * * *").next_after(noon) == at(2026, 12, 2, 12, 15));
  CHECK(must_parse("*/15 * * * *").next_after(noon - 1) == noon);
  // `a/n` runs from a to the field's end.
  CHECK(must_parse("50/5 * * * *").next_after(noon) == at(2026, 12, 2, 12, 50));
  CHECK(must_parse("50/5 * * * *").next_after(at(2026, 12, 2, 12, 55)) == at(2026, 12, 2, 13, 50));
  CHECK(must_parse("10-20/4 9 * * *").next_after(at(2026, 12, 2, 9, 14)) == at(2026, 12, 2, 9, 18));
  CHECK(must_parse("10-20/4 9 * * *").next_after(at(2026, 12, 2, 9, 18)) == at(2026, 12, 3, 9, 10));
  CHECK(must_parse("5,1,30 * * * *").next_after(at(2026, 12, 2, 9, 1)) == at(2026, 12, 2, 9, 5));
  // Wrap-around ranges are not cron syntax.
  CHECK(parse_error("0 22-2 * * *") == "field 2 (hour): reversed range 22-2");
}

TEST_CASE("six fields put seconds first") {
  auto c = must_parse("*/5 * * * * *");
  const int64_t x = at(2026, 12, 2, 8, 30);
  CHECK(c.next_after(x) == x + 5000);
  CHECK(c.next_after(x + 10000) == x + 15000); // strictly after
  CHECK(c.next_after(x + 10001) == x + 15000);
  CHECK(c.next_after(x + 11000) == x + 15000);
  CHECK(c.next_after(x + 14999) == x + 15000);
  CHECK(c.next_after(x + 55000) == x + 60000);
  // 30 in the first field is the second, not the minute.
  CHECK(must_parse("30 0 12 * * *").next_after(x) == at(2026, 12, 2, 12, 0, 30));
  // Five fields fire on second 0 only; sub-second input rounds up.
  CHECK(must_parse("* * * * *").next_after(x + 1) == x + 60000);
  CHECK(must_parse("* * * * * *").next_after(x + 1) == x + 1000);
  CHECK(must_parse("* * * * * *").next_after(x) == x + 1000);
}

TEST_CASE("day of week, names and 7 == 0") {
  const int64_t wed = at(2026, 12, 2, 10); // a Wednesday
  CHECK(must_parse("0 0 * * 1").next_after(wed) == at(2026, 12, 7));
  CHECK(must_parse("0 0 * * mon").next_after(wed) == at(2026, 12, 7));
  CHECK(must_parse("0 0 * * Mon").next_after(wed) == at(2026, 12, 7));
  CHECK(must_parse("0 0 * * 0").next_after(wed) == at(2026, 12, 6));
  CHECK(must_parse("0 0 * * 7").next_after(wed) == at(2026, 12, 6));
  CHECK(must_parse("0 0 * * SUN").next_after(wed) == at(2026, 12, 6));
  CHECK(must_parse("0 0 * * 5-7").next_after(wed) == at(2026, 12, 4));
  CHECK(must_parse("0 0 * * sat,sun").next_after(wed) == at(2026, 12, 5));
  // SUN is 0 as in Vixie cron, so a weekend range must be written SAT,SUN or 6-7.
  CHECK(parse_error("0 0 * * sat-sun") == "field 5 (dow): reversed range sat-sun");
  CHECK(must_parse("0 0 * * 6-7").next_after(at(2026, 12, 5)) == at(2026, 12, 6));
  CHECK(must_parse("0 9 * * MON-FRI").next_after(at(2026, 12, 4, 10)) == at(2026, 12, 7, 9));
  CHECK(must_parse("0 0 1 JAN *").next_after(wed) == at(2027, 1, 1));
  CHECK(must_parse("0 0 1 jan,Jul *").next_after(at(2027, 1, 1)) == at(2027, 7, 1));
  CHECK(must_parse("0 0 1 FEB-apr/2 *").next_after(wed) == at(2027, 2, 1));
  CHECK(must_parse("0 0 1 FEB-apr/2 *").next_after(at(2027, 2, 1)) == at(2027, 4, 1));
}

TEST_CASE("rollover across month, year and leap day") {
  CHECK(must_parse("0 0 1 * *").next_after(at(2026, 12, 2)) == at(2027, 1, 1));
  CHECK(must_parse("* * * * *").next_after(at(2026, 12, 31, 23, 59)) == at(2027, 1, 1));
  CHECK(must_parse("59 23 31 12 *").next_after(at(2026, 12, 31, 23, 59))
        == at(2027, 12, 31, 23, 59));
  CHECK(must_parse("0 0 * * *").next_after(at(2027, 1, 31, 5)) == at(2027, 2, 1));
  // 31 skips the short months.
  CHECK(must_parse("0 0 31 * *").next_after(at(2027, 1, 31)) == at(2027, 3, 31));
  CHECK(must_parse("0 0 29 2 *").next_after(at(2027, 3, 1)) == at(2028, 2, 29));
  CHECK(must_parse("0 0 29 2 *").next_after(at(2028, 2, 29)) == at(2032, 2, 29));
  CHECK(must_parse("0 0 30 2 *").next_after(at(2027, 3, 1)) == std::nullopt);
  CHECK(must_parse("0 0 31 4,6,9,11 *").next_after(at(2027, 3, 1)) == std::nullopt);
  // Restricted dow does not rescue an impossible date: `*` in dow means AND.
  CHECK(must_parse("0 0 30 2 *").next_after(0) == std::nullopt);
  // Before the epoch works the same.
  CHECK(must_parse("0 0 1 1 *").next_after(at(1969, 6, 1)) == at(1970, 1, 1));
  CHECK(must_parse("0 0 1 1 *").next_after(at(1960, 1, 1) + 500) == at(1961, 1, 1));
}

TEST_CASE("dom and dow both restricted match either (Vixie)") {
  auto c = must_parse("0 0 13 * 5"); // the 13th, or any Friday
  // From Wed 2026-12-02: Fri 12-04, Fri 12-11, Sun 12-13, Fri 12-18.
  int64_t t = at(2026, 12, 2);
  const int64_t want[] = {at(2026, 12, 4), at(2026, 12, 11), at(2026, 12, 13), at(2026, 12, 18)};
  for (int64_t w : want) {
    auto n = c.next_after(t);
    REQUIRE(n.has_value());
    CHECK(*n == w);
    t = *n;
  }
  // A `*` prefix on either one (even `*/1`) means AND, i.e. the other one alone.
  CHECK(must_parse("0 0 13 * */1").next_after(at(2026, 12, 2)) == at(2026, 12, 13));
  CHECK(must_parse("0 0 */1 * 5").next_after(at(2026, 12, 2)) == at(2026, 12, 4));
  CHECK(must_parse("0 0 13 * *").next_after(at(2026, 12, 2)) == at(2026, 12, 13));
  // The OR rescues an impossible date, within the month field: February Fridays.
  CHECK(must_parse("0 0 30 2 5").next_after(at(2026, 12, 2)) == at(2027, 2, 5));
  // The OR also holds when the dow list happens to cover every day.
  CHECK(must_parse("0 0 13 * 0-7").next_after(at(2026, 12, 2)) == at(2026, 12, 3));
}

TEST_CASE("extreme inputs do not overflow") {
  auto c = must_parse("* * * * * *");
  CHECK(c.next_after(INT64_MAX) == std::nullopt);
  CHECK(c.next_after(INT64_MAX - 5000) == INT64_MAX - 5000 - 807 + 1000);
  CHECK(c.next_after(INT64_MAX - 807) == std::nullopt); // the next second is past INT64_MAX
  auto lo = c.next_after(INT64_MIN);
  REQUIRE(lo.has_value());
  CHECK(*lo % 1000 == 0);
  CHECK(*lo > INT64_MIN);
}

namespace {

// A naive reference: its own sets, its own day walk, every candidate second.
struct naive {
  std::vector<bool> sec, min, hour, dom, mon, dow;
  bool dom_star = true, dow_star = true;
};

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned month_len(int64_t y, unsigned m) {
  static const unsigned len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : len[m - 1];
}

// Builds one field's text and the set it means, from a few shapes.
std::string random_field(std::mt19937& rng, unsigned lo, unsigned hi, std::vector<bool>& set,
                         bool& star) {
  set.assign(hi + 1, false);
  auto pick = [&](unsigned a, unsigned b) {
    return std::uniform_int_distribution<unsigned>(a, b)(rng);
  };
  star = false;
  switch (pick(0, 5)) {
    case 0:
      star = true;
      for (unsigned v = lo; v <= hi; ++v)
        set[v] = true;
      return "*";
    case 1: {
      unsigned n = pick(1, std::min(hi, 12u));
      star = true;
      for (unsigned v = lo; v <= hi; v += n)
        set[v] = true;
      return "*/" + std::to_string(n);
    }
    case 2: {
      unsigned v = pick(lo, hi);
      set[v] = true;
      return std::to_string(v);
    }
    case 3: {
      unsigned a = pick(lo, hi), b = pick(a, hi), n = pick(1, 4);
      for (unsigned v = a; v <= b; v += n)
        set[v] = true;
      return std::to_string(a) + "-" + std::to_string(b) + (n > 1 ? "/" + std::to_string(n) : "");
    }
    case 4: {
      unsigned a = pick(lo, hi), n = pick(1, hi);
      for (unsigned v = a; v <= hi; v += n)
        set[v] = true;
      return std::to_string(a) + "/" + std::to_string(n);
    }
    default: {
      std::string out;
      for (unsigned k = pick(2, 4); k > 0; --k) {
        unsigned v = pick(lo, hi);
        set[v] = true;
        out += (out.empty() ? "" : ",") + std::to_string(v);
      }
      return out;
    }
  }
}

// The first match strictly after `after_ms`, or nullopt if none by `end_s`.
std::optional<int64_t> naive_next(const naive& n, int64_t after_ms, int64_t end_s) {
  // Start a day early and walk the calendar day by day.
  int64_t y = 2020;
  unsigned m = 1, d = 1;
  int64_t day = days_from_civil(y, m, d);
  unsigned wd = 3; // 2020-01-01 was a Wednesday
  const int64_t after_s = after_ms >= 0 ? after_ms / 1000 : (after_ms - 999) / 1000;
  for (; day * 86400 <= end_s; ++day) {
    if ((day + 1) * 86400 > after_s) {
      bool dom_ok = n.dom[d], dow_ok = n.dow[wd] || (wd == 0 && n.dow[7]);
      bool day_ok = (n.dom_star || n.dow_star) ? dom_ok && dow_ok : dom_ok || dow_ok;
      if (n.mon[m] && day_ok) {
        for (int64_t s = 0; s < 86400; ++s) {
          int64_t t = day * 86400 + s;
          if (t <= after_s)
            continue;
          if (t > end_s)
            return std::nullopt;
          if (n.hour[s / 3600] && n.min[s / 60 % 60] && n.sec[s % 60])
            return t * 1000;
        }
      }
    }
    wd = (wd + 1) % 7;
    if (++d > month_len(y, m)) {
      d = 1;
      if (++m > 12) {
        m = 1;
        ++y;
      }
    }
  }
  return std::nullopt;
}

} // namespace

TEST_CASE("next_after agrees with a naive search") {
  std::mt19937 rng(20261202);
  const int64_t base = at(2026, 1, 1);
  int fired = 0;
  for (int i = 0; i < 300; ++i) {
    naive n;
    bool star;
    const bool six = rng() % 2 == 0;
    std::string text;
    if (six)
      text = random_field(rng, 0, 59, n.sec, star) + " ";
    else
      n.sec.assign(60, false), n.sec[0] = true;
    text += random_field(rng, 0, 59, n.min, star) + " ";
    text += random_field(rng, 0, 23, n.hour, star) + " ";
    // Days and months mostly `*` so that many expressions fire within the window.
    if (rng() % 3 == 0) {
      text += random_field(rng, 1, 31, n.dom, n.dom_star) + " ";
    } else {
      n.dom.assign(32, true);
      n.dom_star = true;
      text += "* ";
    }
    if (rng() % 4 == 0) {
      text += random_field(rng, 1, 12, n.mon, star) + " ";
    } else {
      n.mon.assign(13, true);
      text += "* ";
    }
    text += random_field(rng, 0, 7, n.dow, n.dow_star);
    auto c = must_parse(text);
    CHECK(c.has_seconds() == six);
    for (int k = 0; k < 3; ++k) {
      int64_t after = base + static_cast<int64_t>(rng() % (3u * 365 * 86400)) * 1000;
      if (k == 1)
        after += rng() % 1000;
      const int64_t end_s = after / 1000 + 4 * 86400;
      auto want = naive_next(n, after, end_s);
      auto got = c.next_after(after);
      INFO(text, " after ", after);
      if (want) {
        ++fired;
        CHECK(got == want);
      } else {
        // Nothing in the window: any answer must lie beyond it.
        CHECK((!got || *got > end_s * 1000));
      }
    }
  }
  // The cross-check means something only if most cases fired in the window.
  CHECK(fired > 300);
}

TEST_CASE("bytes outside printable ASCII show as \\xNN in messages") {
  // Found by the fuzzer: a message carried a client's raw byte.
  std::string why;
  CHECK_FALSE(cron_schedule::parse(std::string("0 0 \xaa * 1"), &why));
  CHECK(why == "field 3 (dom): '\\xaa' is not a number");
  for (char c : why)
    CHECK((c >= 0x20 && c < 0x7f));
  CHECK_FALSE(cron_schedule::parse(std::string("*/\x01 * * * *"), &why));
  CHECK(why.find("\\x01") != std::string::npos);
}
