// The epoch file (peregrine/ha/epoch_file.hpp): written as a temporary file, synced, renamed over
// the old one, and the directory synced, so a crash leaves one whole value.

#include "peregrine/ha/epoch_file.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "peregrine/journal/durable_file.hpp"

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
  journal::replace_file_durably(file, std::to_string(epoch) + "\n");
}

}  // namespace peregrine::ha
