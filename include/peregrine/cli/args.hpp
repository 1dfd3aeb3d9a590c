// The command-line conventions that the shipped binaries (peregrine, peregrine-journal,
// peregrine-bench) share, on top of CLI11: a usage error is one line naming the option and exit
// status 2; --help is generated from the option definitions and exits 0; values are checked by
// the same parse functions the configuration uses, so the messages are theirs.
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace peregrine::cli {

inline constexpr int kExitUsage = 2;

/// Settings every binary's App starts from: a repeated option keeps its last value (as the
/// hand-written parsers did), help columns as wide as the old usage texts.
inline void apply_house_style(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.get_formatter()->column_width(29);
  app.set_help_flag("-h,--help", "this text");
}

/// A CLI11 check that runs `parse` (a config::parse_* function: returns a Parsed<T>) and fails
/// with its message, so `--core-cpu x` says `--core-cpu: must be ..., got "x"`.
template <typename Parse>
CLI::Validator parsed_by(Parse parse) {
  return CLI::Validator([parse](std::string& text) -> std::string {
    const auto p = parse(text);
    return p ? std::string{} : p.error;
  }, "", "");
}

/// Adds `--name N` reading a whole number in base 10 into `target` (CLI11 2.1's own conversion
/// takes "010" as octal and "0x10" as hex), refusing anything else and values below `min` or
/// above T's range with "--name: must be a whole number from MIN, got TEXT".
template <typename T>
CLI::Option* add_decimal(CLI::App& app, const std::string& name, T& target, const std::string& help, T min = 0) {
  const auto convert = [min](const std::string& text, T& out) {
    const char* const end = text.data() + text.size();
    const auto r = std::from_chars(text.data(), end, out, 10);
    return r.ec == std::errc{} && r.ptr == end && !text.empty() && out >= min;
  };
  return app
      .add_option_function<std::string>(name, [&target, convert](const std::string& text) { (void)convert(text, target); }, help)
      ->check(CLI::Validator(
          [convert, min](const std::string& text) {
            T v{};
            return convert(text, v) ? std::string{} : "must be a whole number from " + std::to_string(min) + ", got " + text;
          },
          "", ""))
      ->option_text("N");
}

/// argv as CLI11 takes it (reversed), with `--name=` (nothing after '=') made an error unless
/// `name` is in `empty_ok`, where it becomes `--name ""`. Left alone, CLI11 would take the
/// next argument as the value of `--name=`. The value after `--name VALUE` for an option of `app`
/// is left as it is (`--server-arg --journal-dir=` passes `--journal-dir=` on). Throws
/// CLI::ArgumentMismatch naming the option.
inline std::vector<std::string> checked_args(const CLI::App& app, int argc, char** argv,
                                             std::initializer_list<std::string_view> empty_ok = {}) {
  std::vector<std::string> out;
  bool options_end = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") options_end = true;
    if (options_end || !a.starts_with("--")) {
      out.emplace_back(a);
      continue;
    }
    const std::size_t eq = a.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(a);
      const CLI::Option* opt = app.get_option_no_throw(std::string(a));
      if (opt != nullptr && opt->get_expected_min() > 0 && i + 1 < argc) out.emplace_back(argv[++i]);
      continue;
    }
    const std::string_view name = a.substr(0, eq);
    if (eq + 1 == a.size()) {
      bool ok = false;
      for (const std::string_view e : empty_ok) ok = ok || e == name;
      if (!ok) throw CLI::ArgumentMismatch(std::string(name) + ": empty value after '=' (give one, e.g. " + std::string(name) + "=VALUE)");
      out.emplace_back(name);
      out.emplace_back();
      continue;
    }
    out.emplace_back(a);
  }
  return {out.rbegin(), out.rend()};
}

/// Parses the command line into `app`. Returns -1 when the program goes on; otherwise the exit
/// status, after printing: the help on stdout (0; every subcommand with its options, or only the
/// one named before --help when `help_of_subcommand`), or `PROG: MESSAGE` and
/// `(see PROG --help)` on stderr (2).
inline int parse(CLI::App& app, int argc, char** argv, std::initializer_list<std::string_view> empty_ok = {},
                 bool help_of_subcommand = true) {
  const std::string& prog = app.get_name();
  try {
    std::vector<std::string> args = checked_args(app, argc, argv, empty_ok);
    app.parse(args);
    return -1;
  } catch (const CLI::CallForHelp&) {
    const auto subs = app.get_subcommands();
    const std::string text = help_of_subcommand && !subs.empty() ? subs.front()->help() : app.help("", CLI::AppFormatMode::All);
    std::fputs(text.c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n(see %s --help)\n", prog.c_str(), e.what(), prog.c_str());
    return kExitUsage;
  }
}

}  // namespace peregrine::cli
