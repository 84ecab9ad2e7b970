// curve_keys: CURVE key files as `lbctl keygen` writes them and the service
// and the tools read them (transport/curve_keys.hpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "transport/client.hpp"
#include "transport/curve_keys.hpp"

namespace fs = std::filesystem;
using namespace lb::transport;

namespace {

// A fresh folder, removed with everything in it at the end of the test.
class temp_dir {
public:
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "lbd-curve-keys-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
  fs::path path_;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What a key_error says, or "" if none was thrown.
template <class F>
std::string key_error_of(F&& f) {
  try {
    f();
  } catch (const key_error& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a fresh pair: Z85 keys whose public key follows from the secret one") {
  const auto a = make_curve_pair();
  const auto b = make_curve_pair();
  CHECK(is_z85_key(a.public_key));
  CHECK(is_z85_key(a.secret_key));
  CHECK(public_of(a.secret_key) == a.public_key);
  CHECK(a.secret_key != b.secret_key);
  CHECK_FALSE(is_z85_key(""));
  CHECK_FALSE(is_z85_key(a.public_key.substr(1)));           // 39 characters
  CHECK_FALSE(is_z85_key(std::string(40, '"')));             // not in the Z85 alphabet
  CHECK_FALSE(is_z85_key(a.public_key.substr(0, 39) + " ")); // neither is a space
  // Z85's `#` is never first in a key (the first group would pass 2^32), so
  // a line starting with it can only be a comment.
  CHECK_FALSE(is_z85_key("#" + a.public_key.substr(1)));
  CHECK(has(key_error_of([] { public_of("not a key"); }), "not a CURVE secret key"));
}

TEST_CASE("write_curve_pair, then read_secret_key and key_or_file: the same pair") {
  temp_dir dir;
  const auto keys = make_curve_pair();
  const auto base = dir / "alice";
  write_curve_pair(base, keys);

  struct stat st {};
  REQUIRE(::stat((base + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600); // the secret key: the owner's only
  REQUIRE(::stat((base + ".pub").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077 & ~0044) == 0); // others may read the public key, never write it

  const auto read = read_secret_key(base + ".key");
  CHECK(read.secret_key == keys.secret_key);
  CHECK(read.public_key == keys.public_key);
  CHECK(read_key_list(base + ".pub") == std::vector<std::string>{keys.public_key});
  CHECK(key_or_file(base + ".pub") == keys.public_key);
  CHECK(key_or_file(keys.public_key) == keys.public_key); // a key is taken as it is
  // The files say what they are: a comment line, then the key.
  CHECK(has(read_file(base + ".key"), "# CURVE secret key"));
  CHECK(has(read_file(base + ".pub"), "# CURVE public key"));
}

TEST_CASE("write_curve_pair refuses to overwrite and leaves nothing half made") {
  temp_dir dir;
  const auto base = dir / "bob";
  const auto first = make_curve_pair();
  write_curve_pair(base, first);

  SUBCASE("both files there") {
    auto err = key_error_of([&] { write_curve_pair(base, make_curve_pair()); });
    CHECK(has(err, base + ".key"));
    CHECK(has(err, "remove it first"));
  }
  SUBCASE("only the public key there: no secret key is written beside it") {
    fs::remove(base + ".key");
    auto err = key_error_of([&] { write_curve_pair(base, make_curve_pair()); });
    CHECK(has(err, base + ".pub"));
    CHECK_FALSE(fs::exists(base + ".key"));
  }
  // The files are as the first call wrote them.
  CHECK(key_or_file(base + ".pub") == first.public_key);

  SUBCASE("a folder that does not exist") {
    auto err = key_error_of([&] { write_curve_pair(dir / "no/such/carol", make_curve_pair()); });
    CHECK(has(err, "cannot create"));
  }
}

TEST_CASE("key lists: comments and blank lines skipped, surrounding blanks trimmed") {
  temp_dir dir;
  const auto a = make_curve_pair().public_key, b = make_curve_pair().public_key;
  const auto path = dir / "writers";
  write_file(path, "# the game servers\n\n" + a + "\n   \n  # eu-west\n\t" + b + "  \r\n# end");
  CHECK(read_key_list(path) == std::vector<std::string>{a, b});
  write_file(path, "# nobody yet\n");
  CHECK(read_key_list(path).empty());
}

TEST_CASE("a bad line, a missing file, the wrong number of keys: key_error naming them") {
  temp_dir dir;
  const auto a = make_curve_pair();

  SUBCASE("a line that is not a key names the file and the line") {
    const auto path = dir / "readers";
    write_file(path, "# ok\n" + a.public_key + "\n\nnot-a-key\n");
    auto err = key_error_of([&] { read_key_list(path); });
    CHECK(has(err, path + ":4:"));
    CHECK(has(err, "not a CURVE key"));
    // A key cut short is not a key either.
    write_file(path, a.public_key.substr(0, 39) + "\n");
    CHECK(has(key_error_of([&] { read_key_list(path); }), path + ":1:"));
  }
  SUBCASE("a missing file") {
    auto err = key_error_of([&] { read_key_list(dir / "nope"); });
    CHECK(has(err, dir / "nope"));
    CHECK(has(err, "No such file"));
    CHECK(has(key_error_of([&] { key_or_file(dir / "nope"); }), dir / "nope"));
  }
  SUBCASE("a folder") {
    CHECK(has(key_error_of([&] { read_key_list(dir / "."); }), "cannot read the key file"));
  }
  SUBCASE("a secret key file with two keys, or none") {
    const auto path = dir / "two.key";
    write_file(path, a.secret_key + "\n" + make_curve_pair().secret_key + "\n");
    auto err = key_error_of([&] { read_secret_key(path); });
    CHECK(has(err, path));
    CHECK(has(err, "exactly one key"));
    write_file(path, "# nothing\n");
    CHECK(has(key_error_of([&] { read_secret_key(path); }), "holds 0"));
    CHECK(has(key_error_of([&] { key_or_file(path); }), "found 0"));
  }
}

TEST_CASE("load_client_keys: no CURVE, a throwaway pair, or the pair in a file") {
  temp_dir dir;
  const auto server = make_curve_pair();
  const auto client = make_curve_pair();
  write_curve_pair(dir / "server", server);
  write_curve_pair(dir / "client", client);

  CHECK_FALSE(load_client_keys("", "").curve());

  auto throwaway = load_client_keys(server.public_key, "");
  CHECK(throwaway.curve());
  CHECK(throwaway.server_public == server.public_key);
  CHECK(public_of(throwaway.own.secret_key) == throwaway.own.public_key);

  auto from_files = load_client_keys(dir / "server.pub", dir / "client.key");
  CHECK(from_files.server_public == server.public_key);
  CHECK(from_files.own.public_key == client.public_key);
  CHECK(from_files.own.secret_key == client.secret_key);

  // A secret key without the server's: say what is missing.
  CHECK(has(key_error_of([&] { load_client_keys("", dir / "client.key"); }), "--curve-server-key"));
  // Files swapped: each said in the file's first line.
  CHECK(has(key_error_of([&] { load_client_keys(dir / "server.pub", dir / "client.pub"); }),
            "holds a public key"));
  CHECK(has(key_error_of([&] { load_client_keys(dir / "server.key", dir / "client.key"); }),
            "holds a secret key"));
  // Unreadable: the flag and the file.
  auto err = key_error_of([&] { load_client_keys(dir / "missing.pub", ""); });
  CHECK(has(err, "--curve-server-key"));
  CHECK(has(err, dir / "missing.pub"));
  err = key_error_of([&] { load_client_keys(server.public_key, dir / "missing.key"); });
  CHECK(has(err, "--curve-key"));
  CHECK(has(err, dir / "missing.key"));
}
