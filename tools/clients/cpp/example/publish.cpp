// Publish a score and print the player's rank (the README's C++ example).
#include <iostream>

#include <lbd/client.hpp>

int main(int argc, char** argv) {
  lbd::options opts; // the service on tcp://127.0.0.1:7400 unless told
  if (argc > 1)
    opts.endpoint = argv[1];
  lbd::client lb(opts);
  auto r = lb.submit("arena", "alice", 1200);
  std::cout << "alice is #" << r.rank << " of " << r.total << " on arena\n";
}
