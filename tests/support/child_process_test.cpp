// The one process launcher (support::ChildProcess): programs found in PATH or refused by name,
// stdout lines read with a bound, stderr to a file, the CPUs given, and stops that reap the child
// with a bound (SIGKILL after it). Waits are on events (pipe, pidfd) with bounds.

#include "support/child_process.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using peregrine::support::ChildProcess;
using peregrine::support::SpawnOptions;
using namespace std::chrono_literals;

TEST(ChildProcessTest, AProgramFoundInPathRunsAndItsLinesAreReadInOrder) {
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sh", "-c", "echo one; echo two 42; exit 3"}), "");
  EXPECT_GT(p.pid(), 0);
  const std::smatch m = p.wait_line(std::regex(R"(two (\d+))"), 10s);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[1].str(), "42");
  EXPECT_EQ(p.last_line(), "two 42");
  EXPECT_EQ(p.wait_exit(10s), 3);
  EXPECT_EQ(p.pid(), -1);
}

TEST(ChildProcessTest, AProgramThatCannotStartIsAnErrorNamingIt) {
  ChildProcess p;
  const std::string not_found = p.spawn({"peregrine-no-such-program"});
  EXPECT_NE(not_found.find("peregrine-no-such-program"), std::string::npos) << not_found;
  EXPECT_EQ(p.pid(), -1);
  const std::string not_executable = p.spawn({"/etc/hostname"});
  EXPECT_NE(not_executable.find("/etc/hostname"), std::string::npos) << not_executable;
  EXPECT_EQ(p.pid(), -1);
}

TEST(ChildProcessTest, StopEndsItWithSigtermAndReapsIt) {
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sleep", "30"}), "");
  EXPECT_TRUE(p.running());
  EXPECT_EQ(p.stop(10s), 128 + SIGTERM);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.pid(), -1);
  EXPECT_EQ(p.stop(), -1);  // nothing left to stop
}

TEST(ChildProcessTest, AProcessThatIgnoresSigtermIsKilledOnceTheBoundPasses) {
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sh", "-c", "trap '' TERM; echo ready; exec sleep 30"}), "");
  ASSERT_FALSE(p.wait_line(std::regex("ready"), 10s).empty());
  EXPECT_EQ(p.stop(200ms), -1);  // had to be killed
  EXPECT_EQ(p.pid(), -1);
}

TEST(ChildProcessTest, KillNowIsASigkill) {
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sleep", "30"}), "");
  EXPECT_EQ(p.kill_now(), 128 + SIGKILL);
}

TEST(ChildProcessTest, WaitLineStopsAtItsBoundOrAtTheEndOfTheOutput) {
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sh", "-c", "echo x; exec sleep 30"}), "");
  EXPECT_TRUE(p.wait_line(std::regex("never"), 100ms).empty());
  EXPECT_FALSE(p.stdout_closed());
  EXPECT_EQ(p.last_line(), "x");
  ASSERT_EQ(p.spawn({"sh", "-c", "echo x"}), "");  // stops the first one
  EXPECT_TRUE(p.wait_line(std::regex("never"), 60s).empty());
  EXPECT_TRUE(p.stdout_closed());
  EXPECT_EQ(p.wait_exit(10s), 0);
}

TEST(ChildProcessTest, TheChildRunsOnTheCpusGivenWithItsStderrInTheFileGiven) {
  const std::string log = (std::filesystem::temp_directory_path() /
                           ("peregrine-child-process-test-" + std::to_string(::getpid()) + ".log"))
                              .string();
  {
    std::ofstream old(log);
    old << "left over from an earlier run\n";
  }
  ChildProcess p;
  ASSERT_EQ(p.spawn({"sh", "-c", "grep Cpus_allowed_list /proc/self/status; echo to-stderr >&2"}, SpawnOptions{log, {0}}), "");
  const std::smatch m = p.wait_line(std::regex(R"(Cpus_allowed_list:\s+(\S+))"), 10s);
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m[1].str(), "0");
  EXPECT_EQ(p.wait_exit(10s), 0);
  EXPECT_EQ(p.stderr_path(), log);
  std::ifstream f(log);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "to-stderr\n");
  std::filesystem::remove(log);
}

TEST(ChildProcessTest, SpawnsWhileAnotherThreadAllocatesAndLocks) {
  // The launcher forks a process that has other threads (the tests' clients, the bench's pinned
  // thread): between fork and exec the child makes only async-signal-safe calls, so a lock or
  // the allocator held by another thread at the fork cannot hang it. Run under TSan too.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::thread busy([&] {
    while (!stop.load()) {
      const std::lock_guard lock(mu);
      std::vector<std::string> v(64, std::string(100, 'x'));
      (void)v;
    }
  });
  for (int i = 0; i < 50; ++i) {
    ChildProcess p;
    ASSERT_EQ(p.spawn({"sh", "-c", "echo ok"}), "") << i;
    EXPECT_FALSE(p.wait_line(std::regex("ok"), 10s).empty()) << i;
    EXPECT_EQ(p.wait_exit(10s), 0) << i;
  }
  stop = true;
  busy.join();
}

}  // namespace
