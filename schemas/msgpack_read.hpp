// Reading untrusted msgpack, shared by request decoding (decode.cpp) and the
// event-log and snapshot record bodies (event_record.cpp, snapshot_record.cpp).
//
// Internal to the schemas layer: only its .cpp files include this header, so
// msgpack stays out of the public headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <msgpack.hpp>

namespace lb::schemas::detail {

// A value's msgpack type as messages name it: "int", "str", "map", ...
const char* type_name_of(const msgpack::object& o);

// The bytes of a str value (they stay in the frame).
inline std::string_view str_of(const msgpack::object& o) {
  return {o.via.str.ptr, o.via.str.size};
}

// A string from a client or a file, made safe to quote in a message: at most
// 40 bytes, printable ASCII kept, anything else as \xNN.
std::string quote(std::string_view s);

// The two bounded stages of decoding one frame (see decode.cpp's header):
// check_frame() without allocating, then, if it passed, msgpack::unpack()
// with an unpack_limit derived from the frame size into a thread-local zone;
// str/bin values reference the frame instead of being copied. The zone is
// cleared when this goes out of scope (or when unpack() throws), so object()
// is valid until then and while the frame's bytes are. Decoders do not nest,
// so one zone per thread serves them all.
class bounded_unpack {
public:
  // May throw (bad_alloc, or an unpack error check_frame missed).
  bounded_unpack(const char* data, std::size_t size);
  ~bounded_unpack();
  bounded_unpack(const bounded_unpack&) = delete;
  bounded_unpack& operator=(const bounded_unpack&) = delete;

  // check_frame()'s message; empty when the frame passed and was unpacked.
  const std::string& frame_error() const { return frame_error_; }
  // The parser stopped before the end of the frame.
  bool trailing() const { return trailing_; }
  const msgpack::object& object() const { return object_; }

private:
  msgpack::zone* zone_ = nullptr; // set once unpacking started
  std::string frame_error_;
  bool trailing_ = false;
  msgpack::object object_;
};

// Decodes one record body (event-log or snapshot): bounded_unpack, then
// read(object), which returns the record or its error message. Exceptions
// become messages too: running out of memory gives `out_of_memory`, any other
// exception a "body: " message.
template <class T, class Read>
std::variant<T, std::string>
decode_record(const char* data, std::size_t size, const char* out_of_memory, Read read) {
  try {
    const bounded_unpack body(data, size);
    if (!body.frame_error().empty())
      return "body: " + body.frame_error();
    if (body.trailing())
      return std::string("body: trailing bytes after the map");
    return read(body.object());
  } catch (const std::bad_alloc&) {
    return std::string(out_of_memory);
  } catch (const msgpack::unpack_error& e) {
    return std::string("body: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("body: ") + e.what();
  } catch (...) {
    return std::string("body: unknown exception while decoding");
  }
}

// Value checks on record bodies; `what` names the value in the message
// ("score", "entries[3][1] score").
bool want_i64(const msgpack::object& v, const std::string& what, int64_t& out, std::string& err);
bool want_str(const msgpack::object& v, const std::string& what, std::string_view& out,
              std::string& err);

// The known keys of one record body map (event-log and snapshot records),
// `names` indexed by key id. A value of nil counts as absent, as in requests;
// a duplicated known key is an error (no "first wins" that two readers could
// disagree on); unknown keys are skipped, so a newer writer may add keys.
// The first problem is kept in `err`.
template <std::size_t N>
class record_reader {
public:
  std::string err;

  explicit record_reader(const char* const (&names)[N]) : names_(names) {}

  bool scan(const msgpack::object& o) {
    if (o.type != msgpack::type::MAP)
      return fail(std::string("body: expected map, got ") + type_name_of(o));
    const msgpack::object_map& m = o.via.map;
    for (uint32_t i = 0; i < m.size; ++i) {
      const msgpack::object& k = m.ptr[i].key;
      if (k.type != msgpack::type::STR)
        return fail("body: map key " + std::to_string(i) + " is a " + type_name_of(k)
                    + ", expected str");
      const std::string_view name = str_of(k);
      for (std::size_t id = 0; id < N; ++id) {
        if (name != names_[id])
          continue;
        if (val_[id])
          return fail(id, "duplicate key");
        val_[id] = &m.ptr[i].val;
        break;
      }
    }
    for (auto& v : val_)
      if (v && v->type == msgpack::type::NIL)
        v = nullptr;
    return true;
  }

  bool required(std::size_t k, const msgpack::object*& out) {
    out = val_[k];
    return out ? true : fail(k, "missing");
  }

  bool i64(std::size_t k, int64_t& out) {
    const msgpack::object* v = nullptr;
    return required(k, v) && want_i64(*v, names_[k], out, err);
  }

  bool str(std::size_t k, std::string_view& out) {
    const msgpack::object* v = nullptr;
    return required(k, v) && want_str(*v, names_[k], out, err);
  }

  template <class T>
  bool enum_value(std::size_t k, std::optional<T> (*parse)(std::string_view), const char* allowed,
                  T& out) {
    std::string_view s;
    if (!str(k, s))
      return false;
    const std::optional<T> v = parse(s);
    if (!v)
      return fail(k, quote(s) + " is not one of " + allowed);
    out = *v;
    return true;
  }

protected:
  // The value of key k, or nullptr when absent or nil.
  const msgpack::object* value(std::size_t k) const { return val_[k]; }

  bool fail(std::string why) {
    err = std::move(why);
    return false;
  }
  bool fail(std::size_t k, const std::string& why) {
    return fail(std::string(names_[k]) + ": " + why);
  }
  bool wrong_type(std::size_t k, const char* want, const msgpack::object& got) {
    return fail(k, std::string("expected ") + want + ", got " + type_name_of(got));
  }

private:
  const char* const (&names_)[N];
  const msgpack::object* val_[N] = {};
};

} // namespace lb::schemas::detail
