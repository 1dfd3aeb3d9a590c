// Durable whole-file replacement (peregrine/journal/durable_file.hpp): tmp, fsync, rename, fsync dir.

#include "peregrine/journal/durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "format.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {

void replace_file_durably(const std::filesystem::path& file, std::span<const std::span<const std::uint8_t>> parts) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw JournalError(dir.string() + ": cannot create: " + ec.message());
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw JournalError(detail::errno_text(tmp.string(), errno));
  const auto fail = [&](const char* step, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw JournalError(detail::errno_text(tmp.string() + ": " + step, err));
  };
  for (const auto part : parts) {
    std::size_t done = 0;
    while (done < part.size()) {
      const ssize_t k = ::write(fd, part.data() + done, part.size() - done);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) fail("write", errno);
      if (k == 0) fail("write", ENOSPC);
      done += static_cast<std::size_t>(k);
    }
  }
  if (::fsync(fd) != 0) fail("fsync", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw JournalError(detail::errno_text(tmp.string() + ": close", err));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw JournalError(detail::errno_text(file.string() + ": rename", err));
  }
  if (const int err = detail::fsync_dir(dir); err != 0) throw JournalError(detail::errno_text(dir.string() + ": fsync", err));
}

void replace_file_durably(const std::filesystem::path& file, std::string_view text) {
  const std::span<const std::uint8_t> part(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  replace_file_durably(file, std::span<const std::span<const std::uint8_t>>(&part, 1));
}

}  // namespace peregrine::journal
