#pragma once
/// One way to replace a small file durably, for every file the service rewrites whole: snapshots
/// (journal/snapshot.cpp), the HA epoch file (ha/epoch_file.cpp), the drop copy's checkpoint
/// (dropcopy/checkpoint.cpp).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace peregrine::journal {

/// Replaces `file` with the concatenation of `parts` so that a crash at any moment leaves either
/// the old content or the new, never a mix: written to "<file>.tmp", fsynced, renamed over
/// `file`, and the directory fsynced. Creates the directory if it is missing. Throws JournalError
/// ("<path>: <step>: <reason>") on failure: before the rename the temporary file is removed and
/// `file` is as it was; if only the directory's fsync fails, `file` already holds the new
/// content, but a crash could still bring the old one back.
void replace_file_durably(const std::filesystem::path& file, std::span<const std::span<const std::uint8_t>> parts);

/// The same for one piece of text.
void replace_file_durably(const std::filesystem::path& file, std::string_view text);

}  // namespace peregrine::journal
