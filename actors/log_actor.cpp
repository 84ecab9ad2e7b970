#include "actors/log_actor.hpp"

#include <cstdlib>

#include "actors/logger.hpp"

namespace lb::actors {

const char* log_state::name = "lbd-log";

namespace {

using self_ptr = log_handle::stateful_pointer<log_state>;

void sync(self_ptr self) {
  auto& st = self->state;
  if (st.wanted <= st.durable || !st.file)
    return;
  if (auto done = st.file->sync(); !done.ok()) {
    logger::problem("fdatasync of the event log failed: " + done.message()
                    + "; stopping, since the events since the last good sync can no longer be "
                      "trusted (none of them was acknowledged; a restart recovers what is on "
                      "disk)");
    std::_Exit(1);
  }
  st.durable = st.wanted;
  ++st.syncs;
  st.out->durable(st.durable, st.syncs);
}

} // namespace

log_handle::behavior_type log_actor(log_handle::stateful_pointer<log_state> self, log_options opts,
                                    uint64_t durable_seq, outbox_factory make_outbox) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.durable = st.wanted = durable_seq;
  st.out = make_outbox();
  return {
    [self](sync_request& r) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      st.file = std::move(r.file);
      st.wanted = std::max(st.wanted, r.seq);
      if (st.opts.policy == fsync_policy::always || self->mailbox().empty()) {
        sync(self);
      } else if (!st.timer_armed) {
        st.timer_armed = true;
        self->delayed_send(self, st.opts.group_window, commit_atom::value);
      }
    },
    [self](commit_atom) {
      auto turn = self->state.out->turn();
      self->state.timer_armed = false;
      sync(self);
    },
  };
}

} // namespace lb::actors
