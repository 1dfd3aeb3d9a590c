// The epoch kept on disk (issue #15; peregrine/ha/epoch_file.hpp): 0 when missing, a round trip,
// a replaced value, and a file that holds no number refused with its name.

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "peregrine/ha/epoch_file.hpp"
#include "support/temp_dir.hpp"

namespace peregrine::ha {
namespace {

TEST(EpochFileTest, IsZeroWhenMissingAndKeepsTheLastValueWritten) {
  const peregrine::testing::TempDir tmp("peregrine-epoch");
  const std::filesystem::path f = tmp.path() / "journal" / kEpochFileName;
  EXPECT_EQ(read_epoch_file(f), 0u);
  write_epoch_file(f, 1);  // creates the directory
  EXPECT_EQ(read_epoch_file(f), 1u);
  write_epoch_file(f, 18446744073709551615u);
  EXPECT_EQ(read_epoch_file(f), 18446744073709551615u);
  EXPECT_FALSE(std::filesystem::exists(f.string() + ".tmp")) << "renamed over the old file";
}

TEST(EpochFileTest, RefusesAFileThatHoldsNoEpochNamingIt) {
  const peregrine::testing::TempDir tmp("peregrine-epoch");
  const std::filesystem::path f = tmp.path() / kEpochFileName;
  for (const char* bad : {"", "two\n", "3 4\n", "-1\n", "99999999999999999999\n"}) {
    std::ofstream(f) << bad;
    try {
      (void)read_epoch_file(f);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(f.string()), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace peregrine::ha
