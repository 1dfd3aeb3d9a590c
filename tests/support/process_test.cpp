// The tests' launcher (testing::Process) on top of ChildProcess: pause() returns only once every
// thread of the process has stopped, which kill(SIGSTOP) alone does not promise (the kernel
// stops each thread when it next runs in the kernel), and resume() lets them run again.

#include "support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

namespace process_test {

using namespace std::chrono_literals;

/// The state letter of each thread of `pid` (field 3 of /proc/PID/task/TID/stat).
std::vector<char> thread_states(pid_t pid) {
  std::vector<char> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream f(task.path() / "stat");
    const std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size()) out.push_back(stat[close + 2]);
  }
  return out;
}

TEST(ProcessTest, PauseReturnsOnceEveryThreadHasStoppedAndResumeLetsThemRun) {
  peregrine::testing::Process p;
  const std::string log = (std::filesystem::temp_directory_path() / "peregrine-process-test.log").string();
  // Four threads that keep running: the main one and three busy ones.
  ASSERT_TRUE(p.spawn({"/usr/bin/python3", "-c",
                       "import threading\n"
                       "def spin():\n"
                       "  while True: pass\n"
                       "for _ in range(3): threading.Thread(target=spin, daemon=True).start()\n"
                       "print('ready', flush=True)\n"
                       "threading.Event().wait()\n"},
                      log));
  ASSERT_FALSE(p.wait_line(std::regex("ready"), 30s).empty());
  ASSERT_EQ(thread_states(p.pid()).size(), 4u);

  ASSERT_TRUE(p.pause());
  for (const char s : thread_states(p.pid())) EXPECT_EQ(s, 'T');

  ASSERT_TRUE(p.resume());
  // Running again: the spinning threads leave the stopped state (R, or S between slices).
  bool running = false;
  for (const auto until = std::chrono::steady_clock::now() + 10s; !running && std::chrono::steady_clock::now() < until;) {
    for (const char s : thread_states(p.pid())) running = running || s != 'T';
  }
  EXPECT_TRUE(running);
  EXPECT_EQ(p.kill_now(), 128 + 9);
  std::filesystem::remove(log);
}

TEST(ProcessTest, PauseWithoutAProcessIsFalse) {
  peregrine::testing::Process p;
  EXPECT_FALSE(p.pause());
  EXPECT_FALSE(p.resume());
}

}  // namespace process_test
