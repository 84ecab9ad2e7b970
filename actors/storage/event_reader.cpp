#include "actors/storage/event_reader.hpp"

#include <utility>
#include <variant>

#include "actors/storage/log_reader.hpp"

namespace lb::storage {

std::string accept_event(std::string_view body, std::optional<uint64_t>& last,
                         schemas::event_record& out) {
  auto decoded = schemas::decode_event(body.data(), body.size());
  if (auto* why = std::get_if<std::string>(&decoded))
    return std::move(*why);
  auto& ev = std::get<schemas::event_record>(decoded);
  if (last && ev.seq <= *last)
    return "seq " + std::to_string(ev.seq) + " after seq " + std::to_string(*last)
           + ": out of order";
  last = ev.seq;
  out = std::move(ev);
  return {};
}

status read_events(const std::vector<fs::path>& files, uint64_t until_seq,
                   const event_fn& on_event) {
  std::optional<uint64_t> last;
  schemas::event_record ev;
  for (const auto& file : files) {
    scan_result r;
    status st = scan_file(
      file, file_kind::segment,
      [&](uint64_t, std::string_view body) {
        std::string why = accept_event(body, last, ev);
        if (why.empty()) {
          if (ev.seq > until_seq)
            throw stop_scan{};
          on_event(ev);
        }
        return why;
      },
      r);
    if (!st.ok())
      return st;
    if (r.damage != damage_kind::none)
      return status::error(r.message);
    if (r.stopped)
      break;
  }
  return {};
}

} // namespace lb::storage
