// The daemon's allocator settings (meson option `allocator`).
#pragma once

namespace lb::daemon {

// With mimalloc: give freed memory back to the system a second after it
// was freed instead of mimalloc's default 25 ms. Measured on ingest (2
// clients, batches of 100, 10 s, alternating builds): with the default,
// mimalloc decommitted pages the shards faulted right back in (15% of the
// service's CPU in the kernel), 707k events/s against 950k with glibc's
// malloc; with a second's delay, 1.03-1.12M (the session's base build:
// 0.79-0.86M). A burst's memory still goes back once the burst is over.
// With the system allocator: nothing to do.
void tune_allocator();

} // namespace lb::daemon
