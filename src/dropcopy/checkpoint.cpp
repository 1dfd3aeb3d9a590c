#include "peregrine/dropcopy/checkpoint.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "peregrine/dropcopy/message.hpp"
#include "peregrine/journal/durable_file.hpp"

namespace peregrine::dropcopy {

namespace {

constexpr std::string_view kMagic = "peregrine-dropcopy-checkpoint 1";

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& why) {
  throw std::runtime_error(file.string() + ": " + why);
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& day_dir, const std::string& market) {
  return day_dir / ("dropcopy-" + routing_word(market) + ".checkpoint");
}

std::optional<Checkpoint> load_checkpoint(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  std::ifstream in(file);
  if (!in) fail(file, "cannot be read");
  std::string line;
  if (!std::getline(in, line) || line != kMagic) fail(file, "not a drop-copy checkpoint (first line)");
  Checkpoint cp;
  bool have_seq = false;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "market") {
      words >> cp.market;
    } else if (key == "day") {
      words >> cp.day;
    } else if (key == "seq") {
      have_seq = static_cast<bool>(words >> cp.seq);
    } else if (key == "journal_seq") {
      words >> cp.journal_seq;
    }
  }
  if (cp.market.empty() || cp.day.empty() || !have_seq) fail(file, "a field is missing (market, day, seq)");
  return cp;
}

void save_checkpoint(const std::filesystem::path& file, const Checkpoint& cp) {
  const std::string text = std::string(kMagic) + "\nmarket " + cp.market + "\nday " + cp.day + "\nseq " +
                           std::to_string(cp.seq) + "\njournal_seq " + std::to_string(cp.journal_seq) + "\n";
  journal::replace_file_durably(file, text);
}

}  // namespace peregrine::dropcopy
