#pragma once

#include <caf/atom.hpp>

namespace lb::actors {

// CAF 0.17 atoms: at most 10 characters.
using cut_atom = caf::atom_constant<caf::atom("cut")>;

} // namespace lb::actors
