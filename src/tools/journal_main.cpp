// peregrine-journal: print, verify and replay a command journal (issue #5). `peregrine-journal --help` says how.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "peregrine/cli/args.hpp"
#include "peregrine/config/loader.hpp"
#include "peregrine/config/service.hpp"
#include "peregrine/core/codes.hpp"
#include "peregrine/core/command.hpp"
#include "peregrine/core/engine.hpp"
#include "peregrine/core/event.hpp"
#include "peregrine/journal/journal.hpp"
#include "peregrine/journal/snapshot.hpp"
#include "peregrine/replay/engine_replay.hpp"

namespace {

using namespace peregrine;
using namespace peregrine::journal;

constexpr int kExitOk = 0;
constexpr int kExitDamaged = 1;

constexpr const char* kDescription =
    "Reads the command journal in DIR (journal-<seq>.pjl segments, snapshot-<seq>.pgs snapshots).\n"
    "Nothing in DIR is ever modified. Commands: print, verify, replay (each below, with its options).";

constexpr const char* kFooter =
    "DIR is one day's directory (<journal.dir>/<exchange date>), not journal.dir itself: a DIR\n"
    "with no segment is an error, and the message names the day directories below it.\n"
    "\n"
    "exit status: 0 clean (print, replay: done), 1 damaged journal or snapshot (the message names\n"
    "the file and the byte offset), no journal in DIR, or any other error, 2 usage error.";

/// A decimal count (no sign), or why not: the check behind --from and --limit.
std::string u64_error(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  (void)std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0' || text[0] == '-') return "not a number: " + text;
  return {};
}

std::string price_text(Price p) {
  const std::int64_t v = p.value();
  const std::uint64_t a = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  char b[48];
  std::snprintf(b, sizeof b, "%s%" PRIu64 ".%04" PRIu64, v < 0 ? "-" : "", a / kPriceScale, a % kPriceScale);
  return b;
}

std::string token_text(const Token& t) { return "\"" + std::string(t.view()) + "\""; }

const char* status_action_text(StatusAction a) {
  switch (a) {
    case StatusAction::Set: return "set";
    case StatusAction::Schedule: return "schedule";
    case StatusAction::Resume: return "resume";
  }
  return "?";
}

std::string describe(const Command& c) {
  std::ostringstream o;
  o << "ts=" << c.ts.value() << ' ';
  switch (c.type) {
    case CommandType::NewOrder: {
      const auto& n = c.new_order;
      o << "NewOrder owner=" << n.owner.value() << " firm=" << n.firm.value() << " token=" << token_text(n.token)
        << " symbol=" << n.symbol.view() << " side=" << static_cast<char>(n.side)
        << " type=" << static_cast<char>(n.type) << " tif=" << static_cast<char>(n.tif) << " qty=" << n.qty.value()
        << " min_qty=" << n.min_qty.value() << " price=" << price_text(n.price)
        << " post_only=" << static_cast<int>(n.post_only);
      break;
    }
    case CommandType::Cancel:
      o << "Cancel owner=" << c.cancel.owner.value() << " token=" << token_text(c.cancel.token)
        << " target_qty=" << c.cancel.target_qty.value();
      break;
    case CommandType::Replace: {
      const auto& r = c.replace;
      o << "Replace owner=" << r.owner.value() << " existing=" << token_text(r.existing)
        << " replacement=" << token_text(r.replacement) << " qty=" << r.qty.value() << " price=" << price_text(r.price)
        << " tif=" << static_cast<char>(r.tif) << " post_only=" << static_cast<int>(r.post_only);
      break;
    }
    case CommandType::MassCancel:
      o << "MassCancel firm=" << c.mass_cancel.firm.value() << " instrument=" << c.mass_cancel.instrument.value()
        << " owner=" << c.mass_cancel.owner.value() << " reason=" << to_string(c.mass_cancel.reason);
      break;
    case CommandType::SetKillSwitch:
      o << "SetKillSwitch firm=" << c.kill_switch.firm.value() << " engaged=" << static_cast<int>(c.kill_switch.engaged)
        << " cancel_open=" << static_cast<int>(c.kill_switch.cancel_open);
      break;
    case CommandType::SetTradingStatus:
      o << "SetTradingStatus instrument=" << c.trading_status.instrument.value()
        << " status=" << to_string(c.trading_status.status)
        << " action=" << status_action_text(c.trading_status.action);
      break;
    default:
      o << "unknown command type " << static_cast<int>(c.type);
  }
  return o.str();
}

std::string describe(const Record& r) {
  std::ostringstream o;
  o << "seq=" << r.seq << ' ';
  switch (r.kind) {
    case RecordKind::Command: o << "Command " << describe(r.command()); break;
    case RecordKind::Start: {
      StartRecord s;
      std::memcpy(&s, r.payload.data(), sizeof s);
      o << "Start ts=" << s.ts.value() << " session=" << to_string(s.session);
      break;
    }
    case RecordKind::EndOfDay: {
      EndOfDayRecord e;
      std::memcpy(&e, r.payload.data(), sizeof e);
      o << "EndOfDay ts=" << e.ts.value();
      break;
    }
    case RecordKind::EpochStart: {
      EpochStartRecord e;
      std::memcpy(&e, r.payload.data(), sizeof e);
      o << "EpochStart epoch=" << e.epoch << " ts=" << e.ts.value();
      break;
    }
  }
  return o.str();
}

/// The engine section of a service configuration file (the credentials file is not read).
EngineConfig load_engine(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config::ConfigError(path, 0, "", "cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  const std::string base = std::filesystem::path(path).parent_path().string();
  return config::load_service_config_from_string(text.str(), path, base.empty() ? "." : base).engine;
}

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016" PRIx64, v);
  return b;
}

bool is_segment_name(const std::string& name) {
  return name.size() == 32 && name.rfind("journal-", 0) == 0 && name.ends_with(".pjl");
}

bool has_segment(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_segment_name(it->path().filename().string())) return true;
  }
  return false;
}

/// Throws, naming what is there instead, unless `dir` holds a journal segment (or, with
/// `snapshot_will_do`, a snapshot): a tool that read nothing must not report success. The usual
/// mistake is journal.dir itself, the root of one directory per exchange date, so the
/// sub-directories that hold segments are named.
void require_journal(const std::filesystem::path& dir, bool snapshot_will_do) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) throw JournalError(dir.string() + ": no such directory");
  if (!std::filesystem::is_directory(dir, ec)) throw JournalError(dir.string() + ": not a directory");
  if (has_segment(dir) || (snapshot_will_do && !list_snapshots(dir).empty())) return;
  std::vector<std::string> days;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && has_segment(it->path())) days.push_back(it->path().filename().string());
  }
  std::sort(days.begin(), days.end());
  std::string what = dir.string() + ": no journal here (no journal-<seq>.pjl segment" +
                     (snapshot_will_do ? std::string(" or snapshot") : std::string()) + ")";
  if (days.empty()) throw JournalError(what + ", and no sub-directory holds one");
  what += "; it holds the day directories ";
  for (std::size_t i = 0; i < days.size(); ++i) what += (i == 0 ? "" : ", ") + days[i];
  throw JournalError(what + ": name one, e.g. " + (dir / days.back()).string());
}

int cmd_print(const std::filesystem::path& dir, std::uint64_t from, std::optional<std::uint64_t> limit) {
  ReadOptions opts;
  opts.from_seq = from;
  std::uint64_t printed = 0;
  struct Done {};
  ReadEnd end;
  try {
    end = read_journal(dir, 0, opts, [&](const Record& r) {
      if (limit && printed >= *limit) throw Done{};
      std::printf("%s\n", describe(r).c_str());
      ++printed;
    });
  } catch (const Done&) {
    return kExitOk;
  }
  if (end.torn_tail) {
    std::fprintf(stderr, "peregrine-journal: torn tail: %s at offset %" PRIu64 " (an incomplete last record)\n",
                 end.torn_tail->first.c_str(), end.torn_tail->second);
  }
  return kExitOk;
}

int cmd_verify(const std::filesystem::path& dir, const std::optional<std::string>& config_file) {
  std::uint64_t fp = 0;
  if (config_file) {
    fp = config_fingerprint(load_engine(*config_file));
    std::printf("configuration %s: fingerprint %s\n", config_file->c_str(), hex(fp).c_str());
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::fprintf(stderr, "peregrine-journal: %s: not a directory\n", dir.c_str());
    return kExitDamaged;
  }
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> segs;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (is_segment_name(name)) {
      segs.emplace_back(0, e.path());
    } else if (name.ends_with(".corrupt")) {
      std::printf("moved aside: %s\n", name.c_str());
    }
  }
  std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::printf("segments: %zu\n", segs.size());
  for (const auto& s : segs) {
    std::printf("  %s  %ju bytes\n", s.second.filename().c_str(),
                static_cast<std::uintmax_t>(std::filesystem::file_size(s.second, ec)));
  }

  bool damaged = false;
  std::uint64_t commands = 0, starts = 0, eods = 0, first = 0;
  ReadEnd end;
  try {
    end = read_journal(dir, fp, ReadOptions{}, [&](const Record& r) {
      if (first == 0) first = r.seq;
      switch (r.kind) {
        case RecordKind::Command: ++commands; break;
        case RecordKind::Start: ++starts; break;
        case RecordKind::EndOfDay: ++eods; break;
        case RecordKind::EpochStart: break;
      }
    });
  } catch (const JournalError& e) {
    std::printf("DAMAGED: %s\n", e.what());
    damaged = true;
  }
  if (end.torn_tail) {
    std::printf("DAMAGED: torn tail: %s: offset %" PRIu64 ": incomplete last record (recovery truncates it)\n",
                end.torn_tail->first.c_str(), end.torn_tail->second);
    damaged = true;
  }

  const auto snaps = list_snapshots(dir);
  std::printf("snapshots: %zu\n", snaps.size());
  for (const auto& [seq, path] : snaps) {
    try {
      const Snapshot s = read_snapshot(path, fp);
      std::printf("  %s  seq %" PRIu64 ", %zu sections: ok\n", path.filename().c_str(), s.seq, s.sections.size());
    } catch (const JournalError& e) {
      std::printf("  %s  DAMAGED: %s\n", path.filename().c_str(), e.what());
      damaged = true;
    }
  }
  if (!damaged || end.records != 0) {
    std::printf("records: %" PRIu64 " (commands %" PRIu64 ", start %" PRIu64 ", end of day %" PRIu64 "), seq %" PRIu64
                "..%" PRIu64 "\n",
                end.records, commands, starts, eods, first, end.last_seq);
  }
  std::printf("%s\n", damaged ? "verify: DAMAGED" : "verify: clean");
  return damaged ? kExitDamaged : kExitOk;
}

void count_events(void* ctx, const Event* /*events*/, std::size_t n) noexcept {
  *static_cast<std::uint64_t*>(ctx) += n;
}

int cmd_replay(const std::filesystem::path& dir, const std::string& config_file, bool from_snapshot) {
  const EngineConfig cfg = load_engine(config_file);
  const std::uint64_t fp = config_fingerprint(cfg);
  std::vector<Event> buf(256);
  std::uint64_t events = 0;
  EventSink sink(buf.data(), buf.size(), &count_events, &events);
  replay::EngineReplay replayer(cfg, sink);
  ReadOptions ro;
  if (from_snapshot) {
    std::vector<std::string> skipped;
    const std::optional<Snapshot> snap = newest_valid_snapshot(dir, fp, &skipped);
    for (const std::string& why : skipped) std::fprintf(stderr, "peregrine-journal: snapshot skipped: %s\n", why.c_str());
    if (!snap) throw JournalError(dir.string() + ": no snapshot that verifies");
    ro.from_seq = replayer.start_from(*snap);
    std::printf("from snapshot: %s (seq %" PRIu64 ")\n", snap->file.filename().c_str(), snap->seq);
  }

  const auto t0 = std::chrono::steady_clock::now();
  const ReadEnd end = read_journal(dir, fp, ro, [&](const Record& r) { replayer.apply(r); });
  replayer.finish();
  sink.flush();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::uint64_t commands = replayer.commands();
  if (end.torn_tail) {
    std::fprintf(stderr, "peregrine-journal: warning: torn tail ignored: %s at offset %" PRIu64 "\n",
                 end.torn_tail->first.c_str(), end.torn_tail->second);
  }
  std::printf("commands: %" PRIu64 "\n", commands);
  std::printf("events: %" PRIu64 "\n", events);
  std::printf("last seq: %" PRIu64 "\n", end.last_seq);
  std::printf("state hash: %s\n", hex(replayer.engine().state_hash()).c_str());
  std::printf("commands/s: %.0f\n", secs > 0 ? static_cast<double>(commands) / secs : 0.0);
  return kExitOk;
}

int run(int argc, char** argv) {
  CLI::App app{kDescription, "peregrine-journal"};
  cli::apply_house_style(app);
  app.footer(kFooter);
  app.require_subcommand(1);
  std::string dir;
  std::uint64_t from = 1;
  std::optional<std::uint64_t> limit;
  std::optional<std::string> config_file;
  bool from_snapshot = false;
  const auto add_dir = [&](CLI::App* sub) { sub->add_option("DIR", dir, "one day's journal directory")->type_name("")->required(); };
  const CLI::Validator u64{u64_error, "", ""};

  CLI::App* print = app.add_subcommand(
      "print",
      "One line per record from seq SEQ (default 1), at most N lines (default all): the seq,\n"
      "the kind and the decoded command (type, owner, firm, token, symbol, side, qty, price...).");
  add_dir(print);
  // Read as text and converted in base 10 here: CLI11 2.1 would read "010" as octal.
  const auto decimal = [](const std::string& v) { return std::strtoull(v.c_str(), nullptr, 10); };
  print->add_option_function<std::string>("--from", [&](const std::string& v) { from = decimal(v); }, "first seq (default 1)")
      ->type_name("SEQ")
      ->check(u64);
  print->add_option_function<std::string>("--limit", [&](const std::string& v) { limit = decimal(v); },
                                          "at most N lines (default all)")
      ->type_name("N")
      ->check(u64);

  CLI::App* verify = app.add_subcommand(
      "verify",
      "Checks every segment header, record CRC and the seq continuity (and the configuration\n"
      "fingerprint when FILE is given), lists segments and snapshots (each snapshot is read and\n"
      "checked), and prints a summary. A torn last record is reported as damage.");
  add_dir(verify);
  verify->add_option_function<std::string>("--config", [&](const std::string& f) { config_file = f; },
                                            "the service configuration whose fingerprint the journal must carry")
      ->type_name("FILE");

  CLI::App* replay = app.add_subcommand(
      "replay",
      "Builds an engine from FILE's engine section, applies the Start record, then every\n"
      "command, and prints the command count, the last seq, the engine's state hash (hex) and\n"
      "commands/s.");
  add_dir(replay);
  replay->add_option_function<std::string>("--config", [&](const std::string& f) { config_file = f; },
                                            "the service configuration (its engine section)")
      ->type_name("FILE")
      ->required();
  replay->add_flag("--from-snapshot", from_snapshot,
                   "start from the newest snapshot that verifies (newer ones that do\n"
                   "not are named on stderr) and replay only the records after it, as\n"
                   "start-up recovery does (the only way once retention has removed the\n"
                   "day's first segments)");

  const auto is_command = [&app](const std::string& name) {
    const auto subs = app.get_subcommands([&name](const CLI::App* sub) { return sub->check_name(name); });
    return !subs.empty();
  };
  if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "help" && !is_command(argv[1])) {
    std::fprintf(stderr, "peregrine-journal: unknown command: %s\n(see peregrine-journal --help)\n", argv[1]);
    return cli::kExitUsage;
  }
  if (argc > 1 && std::string_view(argv[1]) == "help") {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return kExitOk;
  }
  if (const int status = cli::parse(app, argc, argv); status >= 0) return status;

  const bool printing = print->parsed(), verifying = verify->parsed();
  require_journal(dir, replay->parsed() && from_snapshot);
  if (printing) return cmd_print(dir, from, limit);
  if (verifying) return cmd_verify(dir, config_file);
  return cmd_replay(dir, *config_file, from_snapshot);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const JournalError& e) {
    std::fprintf(stderr, "peregrine-journal: %s\n", e.what());
    return kExitDamaged;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peregrine-journal: %s\n", e.what());
    return kExitDamaged;
  }
}
