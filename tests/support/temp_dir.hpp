#pragma once
// A scratch directory for a test: fresh, under the system's temporary directory, named for the
// running test and this process, removed with what it holds at the end. Header-only.

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace peregrine::testing {

class TempDir {
 public:
  /// Creates <temp>/<prefix>-<test name>-<pid>, emptied first if a crashed run left it. A
  /// parameterized test's '/' becomes '_', so that the directory is one level, all removed.
  explicit TempDir(std::string_view prefix = "peregrine") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string test = info != nullptr ? info->name() : "x";
    std::replace(test.begin(), test.end(), '/', '_');
    path_ = std::filesystem::temp_directory_path() / (std::string(prefix) + "-" + test + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace peregrine::testing
