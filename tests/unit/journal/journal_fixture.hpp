#pragma once
// Shared by the journal tests: a temporary directory per test, command generation, journal
// writing and file surgery helpers.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "peregrine/core/command.hpp"
#include "peregrine/journal/journal.hpp"
#include "support/temp_dir.hpp"

namespace peregrine::journal::test {

/// A fresh directory under the system temp dir, removed afterwards (tests/support/temp_dir.hpp).
struct TempDir : peregrine::testing::TempDir {
  TempDir() : peregrine::testing::TempDir("peregrine-journal") {}
};

/// The i-th test command: distinct bytes for every i (token and ts from i).
inline Command test_command(std::uint64_t i) {
  char tok[16];
  std::snprintf(tok, sizeof tok, "T%013llu", static_cast<unsigned long long>(i));
  if (i % 3 == 2) return make_cancel(Timestamp{i}, OwnerId{1 + static_cast<std::uint32_t>(i % 5)}, Token::from(tok));
  return make_new_order(Timestamp{i}, OwnerId{1 + static_cast<std::uint32_t>(i % 5)}, FirmId{0}, Symbol::from("600519"),
                        Token::from(tok), i % 2 == 0 ? Side::Buy : Side::Sell, Qty{100 * static_cast<std::uint32_t>(1 + i % 7)},
                        Price{17'000'000 + static_cast<std::int64_t>(i % 20) * 100});
}

inline bool same(const Command& a, const Command& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Pushes one command, waiting while the ring is full.
inline void push(JournalWriter& w, const Command& c) {
  while (w.ring().try_push(c) == ring::PushResult::Full) std::this_thread::yield();
}

/// Waits up to `seconds` for `pred`.
template <typename Pred>
bool wait_for(Pred pred, double seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

/// Writes a journal of `n` test commands (seqs 1..n) with the writer thread.
inline void write_journal(const std::filesystem::path& dir, std::uint64_t n, std::uint64_t segment_bytes = 4096,
                          std::uint64_t fingerprint = 0, Durability d = Durability::None) {
  WriterOptions o;
  o.dir = dir;
  o.durability = d;
  o.segment_bytes = segment_bytes;
  o.fingerprint = fingerprint;
  o.min_free_bytes = 0;
  JournalWriter w(o);
  w.open(0);
  w.start();
  for (std::uint64_t i = 1; i <= n; ++i) push(w, test_command(i));
  w.stop();
}

/// Every record of `dir` (from_seq 1, no fingerprint check, no repair).
struct ReadAll {
  std::vector<std::uint64_t> seqs;
  std::vector<RecordKind> kinds;
  std::vector<Command> commands;  // kind Command only
  ReadEnd end;
};
inline ReadAll read_all(const std::filesystem::path& dir, ReadOptions opts = {}, std::uint64_t fp = 0) {
  ReadAll r;
  r.end = read_journal(dir, fp, opts, [&](const Record& rec) {
    r.seqs.push_back(rec.seq);
    r.kinds.push_back(rec.kind);
    if (rec.kind == RecordKind::Command) r.commands.push_back(rec.command());
  });
  return r;
}

inline std::vector<std::filesystem::path> segment_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto n = e.path().filename().string();
    if (n.rfind("journal-", 0) == 0 && n.size() == 32 && n.ends_with(".pjl")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline void flip_byte(const std::filesystem::path& file, std::uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x5A);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

inline std::vector<std::uint8_t> file_bytes(const std::filesystem::path& file) {
  std::ifstream f(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& b) {
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline constexpr std::uint64_t kRecordSize = kRecordHeaderSize + sizeof(Command);

}  // namespace peregrine::journal::test
