#pragma once
/// The highest leader epoch a node has accepted or led, kept across restarts (issue #15;
/// docs/ha.md, "Epochs across restarts"): one small text file, `ha-epoch` in journal.dir (not the
/// day's directory: epochs outlive a trading day), holding the number and a newline. A standby
/// writes it before it appends the first record of a newer epoch; a leader before its first
/// record. A restarted standby then refuses a deposed leader's frames from the start.
///
/// Threads: plain functions on files; any thread (the links call them from theirs).

#include <cstdint>
#include <filesystem>

namespace peregrine::ha {

/// The file's name inside journal.dir.
inline constexpr const char* kEpochFileName = "ha-epoch";

/// The epoch in `file`; 0 when the file does not exist (a node that never saw a leader).
/// Throws std::runtime_error naming the file when it cannot be read or does not hold a number.
[[nodiscard]] std::uint64_t read_epoch_file(const std::filesystem::path& file);

/// Replaces `file` with `epoch` atomically: a temporary file beside it, fsync, rename(2), fsync
/// of the directory. A crash leaves the old value or the new one, never a torn one. Throws
/// std::runtime_error naming the file on failure.
void write_epoch_file(const std::filesystem::path& file, std::uint64_t epoch);

}  // namespace peregrine::ha
