#pragma once
// Runs a benchmark program from the source root, as scripts/bench-* do, and reads back what it
// wrote: its exit code, stdout and stderr together, and its --json file parsed with Boost.JSON.

#include <sys/wait.h>

#include <boost/json.hpp>  // compiled once, in peregrine_boost_json (through peregrine_test_support)
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace peregrine::testing {

struct ProgramRun {
  int exit_code = -1;
  std::string output;
  boost::json::value doc;  ///< null when no JSON was written
};

/// Runs `binary` with `args`, plus `--json DIR/out.json` when `json` is set, from the source root
/// (PEREGRINE_SOURCE_DIR); output files go to `dir`. A JSON file that does not parse fails the test.
inline ProgramRun run_program(const std::string& binary, const std::vector<std::string>& args,
                              const std::filesystem::path& dir, bool json = true) {
  const std::filesystem::path out = dir / "out.json";
  const std::filesystem::path log = dir / "stdout.txt";
  std::filesystem::remove(out);
  std::string cmd = std::string("cd '") + PEREGRINE_SOURCE_DIR + "' && '" + binary + "'";
  for (const std::string& a : args) cmd += " '" + a + "'";
  if (json) cmd += " --json '" + out.string() + "'";
  cmd += " > '" + log.string() + "' 2>&1";
  ProgramRun r;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream lf(log);
  std::stringstream ss;
  ss << lf.rdbuf();
  r.output = ss.str();
  std::ifstream jf(out);
  if (jf) {
    std::stringstream js;
    js << jf.rdbuf();
    boost::system::error_code ec;
    r.doc = boost::json::parse(js.str(), ec);
    EXPECT_FALSE(ec) << "JSON does not parse: " << ec.message() << "\n" << js.str();
  }
  return r;
}

}  // namespace peregrine::testing
