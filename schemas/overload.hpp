// An overload set of lambdas for std::visit. Every variant of an op is
// dispatched with one, so that a new alternative without a handler is a
// compile error rather than a run-time surprise.
#pragma once

namespace lb::schemas {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};

template <class... Fs>
overload(Fs...) -> overload<Fs...>;

} // namespace lb::schemas
