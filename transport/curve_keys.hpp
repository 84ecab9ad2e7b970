// CurveZMQ keys as files. Every key is Z85 text (40 characters), the form
// zmq_curve_keypair makes. A key file holds keys one a line; blank lines and
// lines starting with `#` are comments. A secret key file holds exactly one
// key (the public key follows from it); a key list holds any number.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace lb::transport {

// A key file that cannot be used; what() names the file and the line.
struct key_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct curve_pair {
  std::string public_key; // Z85, 40 characters
  std::string secret_key;
};

// Throws key_error if libzmq was built without CURVE.
curve_pair make_curve_pair();
// The public key of a secret one; throws key_error if `secret` is not a key.
std::string public_of(const std::string& secret);
bool is_z85_key(const std::string& text);

// Every key in `path`, in file order.
std::vector<std::string> read_key_list(const std::string& path);
// The one key in `path`, with its public key.
curve_pair read_secret_key(const std::string& path);
// `text` itself when it is a key, else the one key in the file it names.
std::string key_or_file(const std::string& text);

// Writes `<base>.key` (the secret key, mode 0600) and `<base>.pub` (the
// public key, to hand to the server's key lists). Refuses to overwrite.
void write_curve_pair(const std::string& base, const curve_pair& keys);

} // namespace lb::transport
