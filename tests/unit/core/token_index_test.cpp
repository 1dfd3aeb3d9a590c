// The token index itself (src/core/token_index.hpp, ADR 0007), below the engine: filled to its
// limit many times over, so that lines of tags overflow into the next one (and the last into
// the first), every token it took is found with its own key and slot, and tokens it never took
// are not, however many of their tags collide.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <set>
#include <utility>

#include "../src/core/token_index.hpp"

namespace peregrine::detail {
namespace {

Token token_of(std::uint64_t n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%014llu", static_cast<unsigned long long>(n));
  return Token::from(buf);
}

TEST(TokenIndexTest, FindsEveryTokenItTookAndNoOtherUpToItsLimit) {
  // Small tables (1 to 9 lines of 32 ways) filled to max_tokens, for many token sets: at a load
  // of 3/4 a line holds more than 32 now and then, and its tokens go on to the next line.
  std::uint64_t next = 1;
  for (std::uint32_t max_tokens : {24u, 48u, 96u, 200u}) {
    for (int round = 0; round < 100; ++round) {
      TokenIndex index(max_tokens);
      std::set<std::pair<std::uint32_t, std::uint64_t>> taken;
      for (std::uint32_t i = 0; i < max_tokens; ++i) {
        const OwnerId owner{1 + static_cast<std::uint32_t>(next % 5)};
        const Token t = token_of(next);
        const TokenIndex::Probe p = index.probe(owner, t);
        ASSERT_EQ(p.key, kEmptyEntry) << "a token never taken was found";
        ASSERT_FALSE(index.full());
        EXPECT_EQ(index.insert_at(p, owner, t, i), i);
        taken.emplace(owner.value(), next);
        ++next;
      }
      EXPECT_TRUE(index.full());
      EXPECT_EQ(index.count(), max_tokens);
      std::uint32_t k = 0;
      for (const auto& [owner, n] : taken) {
        const std::uint32_t key = index.find(OwnerId{owner}, token_of(n));
        ASSERT_NE(key, kEmptyEntry) << "token " << n << " of a table of " << max_tokens;
        EXPECT_EQ(index.at(key).owner, owner);
        EXPECT_EQ(index.at(key).token, token_of(n));
        EXPECT_EQ(index.at(key).slot(), key);  // inserted with slot = its position
        // The same token string under another owner was never taken.
        EXPECT_EQ(index.find(OwnerId{owner + 100}, token_of(n)), kEmptyEntry);
        ++k;
      }
      EXPECT_EQ(k, max_tokens);
    }
  }
}

}  // namespace
}  // namespace peregrine::detail
