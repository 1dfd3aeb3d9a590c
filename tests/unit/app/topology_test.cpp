// docs/architecture.md's thread table is src/app/topology.hpp's kTopology, cell for cell: change
// one and this fails until the other says the same.

#include "app/topology.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace peregrine::app {
namespace {

// The rows of the first table after `## Threads of the service`, header and rule left out,
// each split on " | " into its cells.
std::vector<std::vector<std::string>> documented_rows() {
  std::ifstream in(std::string(PEREGRINE_SOURCE_DIR) + "/docs/architecture.md");
  EXPECT_TRUE(in) << "docs/architecture.md";
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool in_section = false;
  bool in_table = false;
  int seen = 0;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      in_section = line == "## Threads of the service";
      continue;
    }
    if (!in_section) continue;
    if (line.rfind("|", 0) != 0) {
      if (in_table) break;  // the first table only
      continue;
    }
    in_table = true;
    if (seen++ < 2) continue;  // header and |---|
    EXPECT_EQ(line.substr(0, 2), "| ") << line;
    EXPECT_EQ(line.substr(line.size() - 2), " |") << line;
    const std::string inner = line.substr(2, line.size() - 4);
    std::vector<std::string> cells;
    std::size_t from = 0;
    for (std::size_t at; (at = inner.find(" | ", from)) != std::string::npos; from = at + 3)
      cells.push_back(inner.substr(from, at - from));
    cells.push_back(inner.substr(from));
    rows.push_back(cells);
  }
  return rows;
}

TEST(TopologyTest, ArchitectureThreadTableIsTheTopologyTable) {
  const std::vector<std::vector<std::string>> rows = documented_rows();
  ASSERT_EQ(rows.size(), kTopology.size()) << "one row per thread of kTopology";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ThreadSpec& t = kTopology[i];
    const std::vector<std::string> expected{std::string(t.thread), std::string(t.role),    std::string(t.inputs),
                                            std::string(t.outputs), std::string(t.cpu), std::string(t.wait)};
    EXPECT_EQ(rows[i], expected) << "row " << i + 1 << " of docs/architecture.md's thread table";
  }
}

TEST(TopologyTest, EveryNamedThreadHasAUniqueNameTheKernelKeepsWhole) {
  std::set<std::string_view> names;
  for (const ThreadSpec& t : kTopology) {
    if (t.name.empty()) continue;
    EXPECT_LE(t.name.size(), 15u) << t.name << ": pthread_setname_np keeps 15 characters";
    EXPECT_EQ(t.name.rfind("pg-", 0), 0u) << t.name;
    EXPECT_TRUE(names.insert(t.name).second) << t.name << " twice";
    // The first cell names it as the OS and /metrics do.
    EXPECT_EQ(t.thread.rfind("`" + std::string(t.name) + "`", 0), 0u) << t.thread;
  }
  for (const std::string_view n :
       {kCoreThread, kIoThread, kJournalThread, kSnapshotThread, kHttpThread, kDpdkThread, kDropCopyThread})
    EXPECT_TRUE(names.count(n)) << n << " is in the table";
}

}  // namespace
}  // namespace peregrine::app
