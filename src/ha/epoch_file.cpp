// The epoch file (peregrine/ha/epoch_file.hpp): written as a temporary file, synced, renamed over
// the old one, and the directory synced, so a crash leaves one whole value.

#include "peregrine/ha/epoch_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace peregrine::ha {

namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(file.string() + ": " + what);
}

}  // namespace

std::uint64_t read_epoch_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return 0;
  std::ifstream in(file);
  if (!in) fail(file, "cannot read the epoch file");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::uint64_t epoch = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), epoch);
  if (text.empty() || err != std::errc{} || end != text.data() + text.size())
    fail(file, "does not hold an epoch (a whole number): \"" + text.substr(0, 32) + "\"");
  return epoch;
}

void write_epoch_file(const std::filesystem::path& file, std::uint64_t epoch) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create the directory: " + ec.message());
  const std::filesystem::path tmp = file.string() + ".tmp";
  const std::string text = std::to_string(epoch) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    fail(tmp, std::strerror(err));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int rerr = errno;
    ::unlink(tmp.c_str());
    fail(file, std::string("rename: ") + std::strerror(rerr));
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace peregrine::ha
