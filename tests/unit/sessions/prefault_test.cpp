// prefault_for_write: a retention buffer's new chunk is mapped in one call, not a fault per page.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "peregrine/sessions/prefault.hpp"
#include "peregrine/sessions/soup_session.hpp"

namespace peregrine::sessions {
namespace {

// Pages of [p, p + bytes) that are resident, by mincore.
std::size_t resident_pages(void* p, std::size_t bytes) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((bytes + page - 1) / page);
  if (::mincore(p, bytes, v.data()) != 0) return 0;
  std::size_t n = 0;
  for (unsigned char c : v) n += c & 1u;
  return n;
}

TEST(PrefaultTest, FillsInEveryWholePageOfARangeWithoutWritingIt) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t bytes = 64 * page;
  void* m = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  ASSERT_EQ(resident_pages(m, bytes), 0u) << "a fresh anonymous mapping has no pages yet";
  // From the middle of the first page to the middle of the last: the 62 whole pages between.
  auto* base = static_cast<std::uint8_t*>(m);
  prefault_for_write(base + page / 2, bytes - page);
  EXPECT_EQ(resident_pages(m, bytes), 62u);
  EXPECT_EQ(resident_pages(base + page, 62 * page), 62u);
  EXPECT_EQ(base[page], 0) << "the pages read as zero, as untouched anonymous memory does";
  ::munmap(m, bytes);
}

TEST(PrefaultTest, ANewOutboundChunkIsResidentBeforeItsFirstMessageIsWritten) {
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  OutboundBuffer buffer(1u << 20);
  const std::array<std::uint8_t, 3> msg{'S', 1, 2};
  buffer.append(msg);  // allocates the first chunk (1024 records)
  // The records after the first one lie in pages nothing has written yet: a chunk is 1024
  // records of 81 bytes, ~20 pages; the 16 whole pages after the first record's page are in it.
  const auto start = reinterpret_cast<std::uintptr_t>(buffer.get(1).data());
  auto* after = reinterpret_cast<void*>((start + page) & ~(page - 1));
  EXPECT_EQ(resident_pages(after, 16 * page), 16u);
}

}  // namespace
}  // namespace peregrine::sessions
