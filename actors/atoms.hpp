#pragma once

#include <caf/atom.hpp>

namespace lb::actors {

// CAF 0.17 atoms: at most 10 characters.
using cut_atom = caf::atom_constant<caf::atom("cut")>;
// The log actor's group-commit timer.
using commit_atom = caf::atom_constant<caf::atom("commit")>;
// Shutdown: cut the stream now (ingress), hand out the view of a cut (merge).
using snap_atom = caf::atom_constant<caf::atom("snap")>;

} // namespace lb::actors
