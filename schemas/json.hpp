// msgpack -> JSON text, for people and scripts (lbctl --json, test output).
#pragma once

#include <cstddef>
#include <string>

namespace lb::schemas {

// Renders one msgpack object as compact JSON. bin values become
// {"$bin": "<base64>"}; non-UTF-8 str bytes are escaped as \u00XX.
// Throws std::runtime_error with a readable message on malformed input.
std::string msgpack_to_json(const char* data, std::size_t size);

} // namespace lb::schemas
