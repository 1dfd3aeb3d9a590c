// Bearer-token handling: the token file, the constant-time comparison, the header parser.

#include "peregrine/ops/auth.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace peregrine::ops {
namespace {

std::filesystem::path write_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("peregrine-auth-test-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string error_of(const std::filesystem::path& p) {
  try {
    (void)read_token_file(p);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

TEST(TokenFileTest, TrimsTheTrailingNewline) {
  const auto p = write_file("nl", "abc-DEF_123\n");
  EXPECT_EQ(read_token_file(p), "abc-DEF_123");
  std::filesystem::remove(p);
}

TEST(TokenFileTest, TrimsTrailingCrLfAndSpacesAndKeepsPadding) {
  const auto p = write_file("crlf", "dG9rZW4=  \r\n\r\n");
  EXPECT_EQ(read_token_file(p), "dG9rZW4=");
  std::filesystem::remove(p);
}

TEST(TokenFileTest, ReadsATokenWithoutNewlineAsAKubernetesSecretMountsIt) {
  const auto p = write_file("raw", "s3cr3t");
  EXPECT_EQ(read_token_file(p), "s3cr3t");
  std::filesystem::remove(p);
}

TEST(TokenFileTest, MissingFileIsAnErrorNamingTheFile) {
  const std::string msg = error_of("/nonexistent/dir/token");
  EXPECT_NE(msg.find("/nonexistent/dir/token"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
}

TEST(TokenFileTest, EmptyOrBlankFileIsAnErrorNamingTheFile) {
  for (const char* content : {"", "\n", "  \r\n\t"}) {
    const auto p = write_file("empty", content);
    const std::string msg = error_of(p);
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
    std::filesystem::remove(p);
  }
}

TEST(TokenFileTest, TokenThatCannotTravelInAHeaderIsAnErrorThatDoesNotQuoteIt) {
  for (const char* content : {"two words\n", "line1\nline2\n", "tok\xc3\xa9n", "=leading"}) {
    const auto p = write_file("bad", content);
    const std::string msg = error_of(p);
    EXPECT_NE(msg.find(p.string()), std::string::npos) << msg;
    EXPECT_EQ(msg.find(content), std::string::npos) << msg;
    std::filesystem::remove(p);
  }
}

TEST(TokenFileTest, NoPathIsAnError) { EXPECT_THROW((void)read_token_file({}), std::runtime_error); }

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("secret", "secre"));
  EXPECT_FALSE(constant_time_equal("secret", ""));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal("", ""));
  // A repeated candidate must not alias the secret through the index wrap-around.
  EXPECT_FALSE(constant_time_equal("abab", "ab"));
}

TEST(BearerTokenTest, ExtractsTheToken) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER   abc  "), "abc");
  EXPECT_EQ(bearer_token("  Bearer abc"), "abc");
}

TEST(BearerTokenTest, RefusesOtherSchemesAndEmptyTokens) {
  EXPECT_FALSE(bearer_token(""));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearer    "));
  EXPECT_FALSE(bearer_token("Bearerabc"));
  EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(bearer_token("abc"));
}

}  // namespace
}  // namespace peregrine::ops
