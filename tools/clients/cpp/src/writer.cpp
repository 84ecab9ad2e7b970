// lbd::writer: frames on the service's ingest socket, encoded by the
// service's own encoder; `source` is added as one more map key.
#include <algorithm>

#include "common.hpp"
#include "schemas/request.hpp"

namespace lbd {

namespace {

namespace sch = lb::schemas;

// Checked here: ingest has no reply to say a name was bad.
sch::submit_req checked_submit_req_of(const submission& s) {
  lbd_impl::check_board(s.board);
  lbd_impl::check_player(s.player);
  return lbd_impl::submit_req_of(s);
}

} // namespace

struct writer::impl {
  options opts;
  std::shared_ptr<zmq::context_t> ctx = lbd_impl::shared_context();
  zmq::socket_t sock;

  explicit impl(const options& o) : opts(o), sock(*ctx, zmq::socket_type::push) {
    if (!o.source.empty())
      lbd_impl::check_source(o.source);
    const auto keys = lbd_impl::keys_of(o);
    const int ms = lbd_impl::milliseconds_of(o.timeout);
    // Frames queued when the writer goes still leave within the timeout;
    // a send finds room in the queue within it, or fails.
    sock.set(zmq::sockopt::linger, ms);
    sock.set(zmq::sockopt::sndtimeo, ms);
    lb::transport::use_client_keys(sock, keys);
    sock.connect(lbd_impl::endpoint_or_default(o.ingest, o.endpoint, "7401", "ingest"));
  }

  void send(const sch::request_body& body) {
    const std::string frame = sch::encode_request(std::nullopt, body, opts.source);
    if (!sock.send(zmq::buffer(frame), zmq::send_flags::none))
      throw error("overloaded", "the ingest queue stayed full for "
                                  + std::to_string(opts.timeout.count())
                                  + " ms: the service is unreachable or behind");
  }
};

writer::writer(const options& opts) : impl_(std::make_unique<impl>(opts)) {}
writer::~writer() = default;
writer::writer(writer&&) noexcept = default;
writer& writer::operator=(writer&&) noexcept = default;

void writer::submit(const submission& s) {
  impl_->send(checked_submit_req_of(s));
}

void writer::submit(const std::string& board, const std::string& player, int64_t score,
                    int64_t subscore, const std::optional<std::string>& meta) {
  submit(submission{board, player, score, subscore, meta});
}

void writer::batch(const std::vector<submission>& items) {
  // Every name is checked before anything is sent, so a bad item leaves
  // the whole call undone rather than half of it.
  std::vector<sch::request_body> frames;
  for (std::size_t at = 0; at < items.size(); at += sch::max_batch_items) {
    sch::batch_req r;
    const auto end = std::min(items.size(), at + sch::max_batch_items);
    for (auto i = at; i < end; ++i)
      r.items.emplace_back(checked_submit_req_of(items[i]));
    frames.emplace_back(std::move(r));
  }
  for (const auto& f : frames)
    impl_->send(f);
}

} // namespace lbd
