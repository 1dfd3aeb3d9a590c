#pragma once
/// The drop copy's checkpoint (docs/dropcopy.md, "Checkpoint"): the last drop-copy sequence
/// number the broker confirmed with every number before it, per market and day, in a small text
/// file beside the day's journal segments. Written atomically (temporary file, fsync, rename);
/// the publisher's thread only.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace peregrine::dropcopy {

struct Checkpoint {
  std::string market;
  std::string day;                ///< exchange date YYYY-MM-DD
  std::uint64_t seq = 0;          ///< every event numbered <= this was confirmed by the broker
  std::uint64_t journal_seq = 0;  ///< the journal record of event `seq` (a cross-check on restart)
};

/// `<day dir>/dropcopy-<market>.checkpoint` (the market escaped as a routing word).
[[nodiscard]] std::filesystem::path checkpoint_path(const std::filesystem::path& day_dir, const std::string& market);

/// The checkpoint in `file`; nothing when the file does not exist. Throws std::runtime_error
/// naming the file when it cannot be read or is not a checkpoint.
[[nodiscard]] std::optional<Checkpoint> load_checkpoint(const std::filesystem::path& file);

/// Writes `cp` to `file` atomically. Throws std::runtime_error naming the file on failure.
void save_checkpoint(const std::filesystem::path& file, const Checkpoint& cp);

}  // namespace peregrine::dropcopy
