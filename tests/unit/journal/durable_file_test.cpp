// replace_file_durably: the one whole-file replacement of snapshots, the HA epoch file and the
// drop copy's checkpoint.

#include "peregrine/journal/durable_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "journal_fixture.hpp"
#include "peregrine/journal/journal.hpp"

namespace peregrine::journal {
namespace durable_file_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

std::string read_all(const std::filesystem::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DurableFileTest, ReplacesTheWholeFileAndLeavesNoTemporary) {
  test::TempDir d;
  const auto f = d.path() / "sub" / "file";
  replace_file_durably(f, "first, and longer than the second\n");
  replace_file_durably(f, "second\n");
  EXPECT_EQ(read_all(f), "second\n");
  EXPECT_FALSE(std::filesystem::exists(f.string() + ".tmp"));
}

TEST(DurableFileTest, WritesThePartsInOrder) {
  test::TempDir d;
  const std::vector<std::uint8_t> a{'a', 'b'}, empty, c{'c'};
  const std::vector<std::span<const std::uint8_t>> parts{a, empty, c};
  replace_file_durably(d.path() / "f", parts);
  EXPECT_EQ(read_all(d.path() / "f"), "abc");
}

TEST(DurableFileTest, AFailureNamesThePathAndKeepsTheOldFile) {
  test::TempDir d;
  const auto f = d.path() / "f";
  replace_file_durably(f, "old");
  // A directory where the temporary file must go: the open fails, the old content stays.
  std::filesystem::create_directory(f.string() + ".tmp");
  try {
    replace_file_durably(f, "new");
    FAIL() << "no error";
  } catch (const JournalError& e) {
    EXPECT_NE(std::string(e.what()).find(f.string() + ".tmp"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_all(f), "old");
  // A regular file where the directory must be.
  EXPECT_THROW(replace_file_durably(f / "below", "x"), JournalError);
}

}  // namespace durable_file_test
}  // namespace peregrine::journal
