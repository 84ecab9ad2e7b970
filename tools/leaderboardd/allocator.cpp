#include "tools/leaderboardd/allocator.hpp"

#if LBD_MIMALLOC
#  include <mimalloc.h>
#endif

namespace lb::daemon {

void tune_allocator() {
#if LBD_MIMALLOC
  mi_option_set(mi_option_decommit_delay, 1000); // ms
#endif
}

} // namespace lb::daemon
