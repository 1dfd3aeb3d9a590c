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
/// `file`, and the directory fsynced. Creates the directory if it is missing. On failure removes
/// the temporary file and throws JournalError ("<path>: <step>: <reason>").
void replace_file_durably(const std::filesystem::path& file, std::span<const std::span<const std::uint8_t>> parts);

/// The same for one piece of text.
void replace_file_durably(const std::filesystem::path& file, std::string_view text);

}  // namespace peregrine::journal
