#include "transport/curve_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <zmq.h>

namespace lb::transport {

namespace {

constexpr size_t z85_key_chars = 40;

std::string trimmed(const std::string& line) {
  auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = line.find_last_not_of(" \t\r");
  return line.substr(first, last - first + 1);
}

void write_new_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno; // before anything else can change it
    throw key_error("cannot create " + path + ": " + std::strerror(err)
                    + (err == EEXIST ? " (remove it first, or pick another name)" : ""));
  }
  auto written = ::write(fd, text.data(), text.size());
  const int err = written < 0 ? errno : ENOSPC; // a short write: the disk is full
  const bool closed = ::close(fd) == 0;
  if (written != static_cast<ssize_t>(text.size()) || !closed) {
    ::unlink(path.c_str()); // no half-written key left behind
    throw key_error("cannot write " + path + ": " + std::strerror(closed ? err : EIO));
  }
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

} // namespace

bool is_z85_key(const std::string& text) {
  if (text.size() != z85_key_chars)
    return false;
  uint8_t raw[32];
  return zmq_z85_decode(raw, text.c_str()) != nullptr;
}

curve_pair make_curve_pair() {
  char pub[z85_key_chars + 1];
  char sec[z85_key_chars + 1];
  if (zmq_curve_keypair(pub, sec) != 0)
    throw key_error("cannot make a CURVE key pair: this libzmq was built without CURVE");
  return {pub, sec};
}

std::string public_of(const std::string& secret) {
  char pub[z85_key_chars + 1];
  if (!is_z85_key(secret) || zmq_curve_public(pub, secret.c_str()) != 0)
    throw key_error("not a CURVE secret key (40 Z85 characters)");
  return pub;
}

std::vector<std::string> read_key_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int err = errno;
    throw key_error("cannot read the key file " + path + ": " + std::strerror(err));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) // opens, but reads as empty
    throw key_error("cannot read the key file " + path + ": " + std::strerror(EISDIR));
  std::vector<std::string> keys;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    auto text = trimmed(line);
    // No key starts with `#`: Z85's last character, it would make a first
    // group above 2^32.
    if (text.empty() || text.front() == '#')
      continue;
    if (!is_z85_key(text))
      throw key_error(path + ":" + std::to_string(number)
                      + ": not a CURVE key (40 Z85 characters, as `lbctl keygen` writes)");
    keys.push_back(std::move(text));
  }
  return keys;
}

curve_pair read_secret_key(const std::string& path) {
  auto keys = read_key_list(path);
  if (keys.size() != 1)
    throw key_error(path + ": a secret key file holds exactly one key, this one holds "
                    + std::to_string(keys.size()));
  return {public_of(keys.front()), keys.front()};
}

std::string key_or_file(const std::string& text) {
  if (is_z85_key(text))
    return text;
  auto keys = read_key_list(text);
  if (keys.size() != 1)
    throw key_error(text + ": expected exactly one key, found " + std::to_string(keys.size()));
  return keys.front();
}

void write_curve_pair(const std::string& base, const curve_pair& keys) {
  // Both names checked first, so that a refusal leaves neither file behind.
  for (const auto& path : {base + ".key", base + ".pub"})
    if (exists(path))
      throw key_error("cannot create " + path + ": " + std::strerror(EEXIST)
                      + " (remove it first, or pick another name)");
  write_new_file(base + ".key",
                 "# CURVE secret key: keep it private (a client's --curve-key, or "
                 "leaderboardd --curve-secret)\n"
                   + keys.secret_key + "\n",
                 0600);
  try {
    write_new_file(base + ".pub",
                   "# CURVE public key: list it in leaderboardd's --readers/--writers/--admins "
                   "files\n"
                     + keys.public_key + "\n",
                   0644);
  } catch (const key_error&) {
    ::unlink((base + ".key").c_str()); // a pair or nothing
    throw;
  }
}

} // namespace lb::transport
