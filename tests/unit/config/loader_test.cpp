// The YAML configuration loader: what a good file becomes, and how every kind of bad file is
// refused, with the file, the line and the field named in the message.

#include "peregrine/config/loader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace peregrine::config {
namespace loader_test {  // named, not anonymous: the sanitizer presets' unity builds compile it beside other tests

const std::string kDemoPath = std::string(PEREGRINE_SOURCE_DIR) + "/config/demo.yaml";

/// A file with one instrument (line 2, written `{<fields>}`) and one firm.
std::string one_instrument(std::string_view fields) {
  return "instruments:\n  - {" + std::string(fields) + "}\nfirms:\n  - {name: FRMA}\n";
}

/// A file with one instrument and one firm (line 4, written `{<fields>}`).
std::string one_firm(std::string_view fields) {
  return "instruments:\n  - {symbol: \"600519\", reference_price: \"1700.00\"}\nfirms:\n  - {" +
         std::string(fields) + "}\n";
}

EngineConfig load(std::string_view text) { return load_engine_config_from_string(text, "test.yaml"); }

/// Checks that `text` is refused with an error at `line` about `field` whose reason contains
/// `reason`, and that what() reads `test.yaml:<line>: <field>: <reason...>`.
::testing::AssertionResult refused(std::string_view text, int line, const std::string& field,
                                   const std::string& reason) {
  try {
    (void)load_engine_config_from_string(text, "test.yaml");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    std::string prefix = "test.yaml:" + std::to_string(line) + ": ";
    if (!field.empty()) prefix += field + ": ";
    if (e.file() != "test.yaml" || e.line() != line || e.field() != field ||
        e.reason().find(reason) == std::string::npos || what.rfind(prefix, 0) != 0 ||
        what.find(reason) == std::string::npos) {
      return ::testing::AssertionFailure() << "expected \"" << prefix << "..." << reason << "...\", got \"" << what
                                           << "\" (line " << e.line() << ", field \"" << e.field() << "\")";
    }
    return ::testing::AssertionSuccess() << what;
  }
  return ::testing::AssertionFailure() << "the file was accepted";
}

// --- good files --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, LoadsTheDemoFile) {
  const EngineConfig cfg = load_engine_config(kDemoPath);
  ASSERT_EQ(cfg.instruments.size(), 6u);
  EXPECT_EQ(cfg.instruments[0].symbol.view(), "600519");
  EXPECT_EQ(cfg.instruments[0].name, "Kweichow Moutai");
  EXPECT_EQ(cfg.instruments[0].reference_price, Price{17000000});
  EXPECT_EQ(cfg.instruments[2].symbol.view(), "000001");
  EXPECT_EQ(cfg.instruments[3].symbol.view(), "688981");
  EXPECT_EQ(cfg.instruments[3].cage_bps, 200u);
  EXPECT_EQ(cfg.instruments[5].limit_bps, 500u);
  ASSERT_EQ(cfg.firms.size(), 3u);
  EXPECT_EQ(cfg.firms[0].name.view(), "FRMA");
  EXPECT_EQ(cfg.firms[0].stp, StpMode::CancelNewest);
  EXPECT_EQ(cfg.firms[0].max_order_notional, 50000000 * kPriceScale);
  EXPECT_EQ(cfg.firms[2].name.view(), "MM01");
  EXPECT_EQ(cfg.max_orders, 1048576u);
  EXPECT_EQ(cfg.max_tokens, 4194304u);
}

TEST(ConfigLoaderTest, ReadsEveryInstrumentField) {
  const EngineConfig cfg = load(R"(instruments:
  - symbol: "601318"
    name: Ping An Insurance
    tick: "0.05"
    lot_size: 10
    min_qty: 20
    odd_lot_sell: false
    max_order_qty: 5000
    reference_price: "52.30"
    limit_pct: "7.5"
    cage_pct: 3
    initial_status: halted
firms:
  - {name: FRMA}
)");
  ASSERT_EQ(cfg.instruments.size(), 1u);
  const InstrumentConfig& in = cfg.instruments[0];
  EXPECT_EQ(in.symbol, Symbol::from("601318"));
  EXPECT_EQ(in.name, "Ping An Insurance");
  EXPECT_EQ(in.tick, Price{500});
  EXPECT_EQ(in.lot_size, Qty{10});
  EXPECT_EQ(in.min_qty, Qty{20});
  EXPECT_FALSE(in.odd_lot_sell);
  EXPECT_EQ(in.max_order_qty, Qty{5000});
  EXPECT_EQ(in.reference_price, Price{523000});
  EXPECT_EQ(in.limit_bps, 750u);
  EXPECT_EQ(in.cage_bps, 300u);
  EXPECT_EQ(in.initial_status, TradingStatus::Halted);
}

TEST(ConfigLoaderTest, GivesAnInstrumentWithoutBoardTheInstrumentConfigDefaults) {
  const EngineConfig cfg = load(one_instrument(R"(symbol: "600519", reference_price: "1700")"));
  const InstrumentConfig defaults{};
  const InstrumentConfig& in = cfg.instruments[0];
  EXPECT_EQ(in.name, "");
  EXPECT_EQ(in.tick, defaults.tick);
  EXPECT_EQ(in.lot_size, defaults.lot_size);
  EXPECT_EQ(in.min_qty, defaults.min_qty);
  EXPECT_EQ(in.odd_lot_sell, defaults.odd_lot_sell);
  EXPECT_EQ(in.max_order_qty, defaults.max_order_qty);
  EXPECT_EQ(in.limit_bps, defaults.limit_bps);
  EXPECT_EQ(in.cage_bps, defaults.cage_bps);
  EXPECT_EQ(in.initial_status, defaults.initial_status);
}

TEST(ConfigLoaderTest, ReadsEveryFirmField) {
  const EngineConfig cfg = load(one_firm(
      R"(name: B2, stp: cancel_both, max_order_qty: 50000, max_order_notional: "1234.5678", max_open_shares: 9000000000)"));
  ASSERT_EQ(cfg.firms.size(), 1u);
  const FirmConfig& f = cfg.firms[0];
  EXPECT_EQ(f.name, FirmName::from("B2"));
  EXPECT_EQ(f.stp, StpMode::CancelBoth);
  EXPECT_EQ(f.max_order_qty, Qty{50000});
  EXPECT_EQ(f.max_order_notional, 12345678);
  EXPECT_EQ(f.max_open_shares, 9000000000u);
}

TEST(ConfigLoaderTest, GivesAFirmWithOnlyANameNoLimitsAndNoSelfTradePrevention) {
  const FirmConfig f = load(one_firm("name: FRMA")).firms[0];
  const FirmConfig defaults{};
  EXPECT_EQ(f.stp, defaults.stp);
  EXPECT_EQ(f.max_order_qty, defaults.max_order_qty);
  EXPECT_EQ(f.max_order_notional, defaults.max_order_notional);
  EXPECT_EQ(f.max_open_shares, defaults.max_open_shares);
}

TEST(ConfigLoaderTest, ReadsEverySelfTradePreventionMode) {
  const std::pair<const char*, StpMode> modes[] = {{"none", StpMode::None},
                                                   {"cancel_newest", StpMode::CancelNewest},
                                                   {"cancel_oldest", StpMode::CancelOldest},
                                                   {"cancel_both", StpMode::CancelBoth},
                                                   {"decrement", StpMode::Decrement}};
  for (const auto& [text, mode] : modes) {
    EXPECT_EQ(load(one_firm(std::string("name: FRMA, stp: ") + text)).firms[0].stp, mode) << text;
  }
}

TEST(ConfigLoaderTest, ReadsTheEngineSectionAndDefaultsItWhenAbsent) {
  const EngineConfig cfg = load("engine: {max_orders: 1000, max_tokens: 5000}\n" + one_firm("name: FRMA"));
  EXPECT_EQ(cfg.max_orders, 1000u);
  EXPECT_EQ(cfg.max_tokens, 5000u);
  const EngineConfig defaults{};
  const EngineConfig without = load(one_firm("name: FRMA"));
  EXPECT_EQ(without.max_orders, defaults.max_orders);
  EXPECT_EQ(without.max_tokens, defaults.max_tokens);
}

TEST(ConfigLoaderTest, ReadsSectionsInAnyOrder) {
  const EngineConfig cfg = load(R"(firms: [{name: FRMA}]
engine: {max_orders: 10}
instruments: [{symbol: "600519", reference_price: "1700"}]
)");
  EXPECT_EQ(cfg.firms.size(), 1u);
  EXPECT_EQ(cfg.instruments.size(), 1u);
  EXPECT_EQ(cfg.max_orders, 10u);
}

TEST(ConfigLoaderTest, FillsMainBoardRulesFromTheBoardPreset) {
  const InstrumentConfig in = load(one_instrument(R"(symbol: "600519", board: main, reference_price: "1700")")).instruments[0];
  EXPECT_EQ(in.tick, Price{100});
  EXPECT_EQ(in.lot_size, Qty{100});
  EXPECT_EQ(in.min_qty, Qty{100});
  EXPECT_TRUE(in.odd_lot_sell);
  EXPECT_EQ(in.max_order_qty, Qty{1000000});
  EXPECT_EQ(in.limit_bps, 1000u);
  EXPECT_EQ(in.cage_bps, 0u);
}

TEST(ConfigLoaderTest, FillsStarMarketRulesFromTheBoardPreset) {
  const InstrumentConfig in = load(one_instrument(R"(symbol: "688981", board: star, reference_price: "89.50")")).instruments[0];
  EXPECT_EQ(in.tick, Price{100});
  EXPECT_EQ(in.lot_size, Qty{1});
  EXPECT_EQ(in.min_qty, Qty{200});
  EXPECT_TRUE(in.odd_lot_sell);
  EXPECT_EQ(in.max_order_qty, Qty{100000});
  EXPECT_EQ(in.limit_bps, 2000u);
  EXPECT_EQ(in.cage_bps, 200u);
}

TEST(ConfigLoaderTest, FillsChiNextRulesFromTheBoardPreset) {
  const InstrumentConfig in = load(one_instrument(R"(symbol: "300750", board: chinext, reference_price: "252.60")")).instruments[0];
  EXPECT_EQ(in.lot_size, Qty{100});
  EXPECT_EQ(in.min_qty, Qty{100});
  EXPECT_EQ(in.max_order_qty, Qty{300000});
  EXPECT_EQ(in.limit_bps, 2000u);
  EXPECT_EQ(in.cage_bps, 200u);
}

TEST(ConfigLoaderTest, FillsRiskWarningRulesFromTheBoardPreset) {
  const InstrumentConfig in = load(one_instrument(R"(symbol: "600001", board: risk_warning, reference_price: "3.17")")).instruments[0];
  EXPECT_EQ(in.lot_size, Qty{100});
  EXPECT_EQ(in.min_qty, Qty{100});
  EXPECT_EQ(in.max_order_qty, Qty{1000000});
  EXPECT_EQ(in.limit_bps, 500u);
  EXPECT_EQ(in.cage_bps, 0u);
}

TEST(ConfigLoaderTest, LetsExplicitFieldsOverrideTheBoardPresetWhereverTheyAreWritten) {
  // The board key comes after the overrides: order in the entry does not matter.
  const InstrumentConfig in =
      load(one_instrument(R"(symbol: "688981", max_order_qty: 50000, cage_pct: 0, board: star, reference_price: "89.50")"))
          .instruments[0];
  EXPECT_EQ(in.max_order_qty, Qty{50000});
  EXPECT_EQ(in.cage_bps, 0u);
  EXPECT_EQ(in.min_qty, Qty{200});
  EXPECT_EQ(in.limit_bps, 2000u);
}

TEST(ConfigLoaderTest, ReadsPricesAsExactDecimals) {
  const auto price = [](std::string_view text) {
    return load(one_instrument("symbol: \"600519\", tick: \"0.0001\", reference_price: " + std::string(text)))
        .instruments[0]
        .reference_price;
  };
  EXPECT_EQ(price(R"("12.34")"), Price{123400});
  EXPECT_EQ(price("12.34"), Price{123400});  // unquoted: the text is read, not a double
  EXPECT_EQ(price("0.1"), Price{1000});
  EXPECT_EQ(price("0.0001"), Price{1});
  EXPECT_EQ(price("1700"), Price{17000000});
  EXPECT_EQ(price("1700.0000"), Price{17000000});
  EXPECT_EQ(price("007.5"), Price{75000});
  EXPECT_EQ(price("10.0003"), Price{100003});
}

TEST(ConfigLoaderTest, ReadsPercentagesAsBasisPoints) {
  const auto limit = [](std::string_view text) {
    return load(one_instrument("symbol: \"600519\", reference_price: \"10\", limit_pct: " + std::string(text)))
        .instruments[0]
        .limit_bps;
  };
  EXPECT_EQ(limit("10"), 1000u);
  EXPECT_EQ(limit(R"("2.5")"), 250u);
  EXPECT_EQ(limit("0.01"), 1u);
  EXPECT_EQ(limit("44.44"), 4444u);
}

TEST(ConfigLoaderTest, ReadsSymbolsWithLeadingZerosQuotedOrNot) {
  EXPECT_EQ(load(one_instrument(R"(symbol: 000001, reference_price: "11.52")")).instruments[0].symbol.view(), "000001");
  EXPECT_EQ(load(one_instrument(R"(symbol: "000002", reference_price: "7")")).instruments[0].symbol.view(), "000002");
}

TEST(ConfigLoaderTest, ReadsANameInChinese) {
  EXPECT_EQ(load(one_instrument(R"(symbol: "600519", name: 贵州茅台, reference_price: "1700")")).instruments[0].name,
            "贵州茅台");
}

TEST(ConfigLoaderTest, KeepsInstrumentsAndFirmsInFileOrder) {
  const EngineConfig cfg = load(R"(instruments:
  - {symbol: "600519", reference_price: "1700"}
  - {symbol: "000001", reference_price: "11"}
firms: [{name: ZZ}, {name: AA}]
)");
  EXPECT_EQ(cfg.instruments[0].symbol.view(), "600519");
  EXPECT_EQ(cfg.instruments[1].symbol.view(), "000001");
  EXPECT_EQ(cfg.firms[0].name.view(), "ZZ");
  EXPECT_EQ(cfg.firms[1].name.view(), "AA");
}

// --- files that cannot be read or parsed -------------------------------------------------------

TEST(ConfigLoaderTest, RefusesAMissingFileNamingIt) {
  const std::string path = ::testing::TempDir() + "peregrine-no-such-config.yaml";
  try {
    (void)load_engine_config(path);
    FAIL() << "a missing file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(std::string(e.what()), path + ": cannot open: No such file or directory");
  }
}

TEST(ConfigLoaderTest, RefusesADirectoryNamingIt) {
  try {
    (void)load_engine_config(PEREGRINE_SOURCE_DIR);
    FAIL() << "a directory was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), std::string(PEREGRINE_SOURCE_DIR) + ": is a directory, not a file");
  }
}

TEST(ConfigLoaderTest, NamesTheFilePathInErrorsFromAFile) {
  const std::string path = ::testing::TempDir() + "peregrine-config-test.yaml";
  {
    std::ofstream out(path);
    out << "instruments:\n  - {symbol: \"600519\", reference_price: \"1700\"}\nfirms:\n  - {name: frma}\n";
  }
  try {
    (void)load_engine_config(path);
    FAIL() << "a lowercase firm name was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":4: firms[0].name: must be 1 to 4 uppercase letters or digits, got \"frma\"");
  }
  std::filesystem::remove(path);
}

TEST(ConfigLoaderTest, RefusesAYamlSyntaxErrorNamingItsLine) {
  EXPECT_TRUE(refused("instruments:\n  - {symbol: \"600519\", reference_price: \"1700\"\nfirms: []\n", 3, "",
                      "YAML syntax error"));
}

TEST(ConfigLoaderTest, RefusesAnEmptyFile) {
  EXPECT_TRUE(refused("", 1, "", "the file is empty"));
  EXPECT_TRUE(refused("# only a comment\n", 1, "", "the file is empty"));
}

TEST(ConfigLoaderTest, RefusesMoreThanOneYamlDocument) {
  EXPECT_TRUE(refused(one_firm("name: FRMA") + "---\nengine: {}\n", 6, "", "more than one YAML document"));
}

TEST(ConfigLoaderTest, RefusesATopLevelThatIsNotAMap) {
  EXPECT_TRUE(refused("- 1\n- 2\n", 1, "", "must be a map of sections"));
}

// --- unknown and repeated keys -----------------------------------------------------------------

TEST(ConfigLoaderTest, RefusesAnUnknownTopLevelSectionListingTheKnownOnes) {
  EXPECT_TRUE(refused(one_firm("name: FRMA") + "dpdk: {port: 1}\n", 5, "dpdk",
                      "unknown key; expected one of: engine, instruments, firms, users, credentials_file, "
                      "gateway, core, admin, tuning"));
}

TEST(ConfigLoaderTest, RefusesAMisspelledInstrumentKeySuggestingTheRightOne) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    refrence_price: "1700"
firms: [{name: FRMA}]
)",
                      3, "instruments[0].refrence_price", "unknown key; did you mean 'reference_price'?"));
}

TEST(ConfigLoaderTest, RefusesALongerSpellingOfAKeySuggestingTheRightOne) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", tick_size: "0.01")"), 2,
                      "instruments[0].tick_size", "unknown key; did you mean 'tick'?"));
}

TEST(ConfigLoaderTest, RefusesAnUnknownFirmKey) {
  EXPECT_TRUE(refused(one_firm("name: FRMA, max_notional: 5"), 4, "firms[0].max_notional", "unknown key"));
}

TEST(ConfigLoaderTest, RefusesAnUnknownEngineKey) {
  EXPECT_TRUE(refused("engine:\n  max_order: 5\n" + one_firm("name: FRMA"), 2, "engine.max_order",
                      "did you mean 'max_orders'?"));
}

TEST(ConfigLoaderTest, RefusesAKeyGivenTwiceInOneEntry) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    reference_price: "1700"
    tick: "0.01"
    tick: "0.02"
firms: [{name: FRMA}]
)",
                      5, "instruments[0].tick", "given twice (first at line 4)"));
}

TEST(ConfigLoaderTest, RefusesASectionGivenTwice) {
  EXPECT_TRUE(refused(one_firm("name: FRMA") + "firms: []\n", 5, "firms", "given twice (first at line 3)"));
}

// --- wrong types -------------------------------------------------------------------------------

TEST(ConfigLoaderTest, RefusesInstrumentsThatAreNotAList) {
  EXPECT_TRUE(refused("instruments: {symbol: \"600519\"}\nfirms: [{name: FRMA}]\n", 1, "instruments",
                      "must be a list of instruments, got a map"));
}

TEST(ConfigLoaderTest, RefusesAnInstrumentThatIsNotAMap) {
  EXPECT_TRUE(refused("instruments:\n  - \"600519\"\nfirms: [{name: FRMA}]\n", 2, "instruments[0]",
                      "must be an instrument (keys: symbol, name, board,"));
}

TEST(ConfigLoaderTest, RefusesAnEngineSectionThatIsNotAMap) {
  EXPECT_TRUE(refused("engine: 5\n" + one_firm("name: FRMA"), 1, "engine", "must be a map"));
}

TEST(ConfigLoaderTest, RefusesAListWhereANumberBelongs) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "1700", tick: [1])"), 2,
                      "instruments[0].tick", "must be a price in CNY such as \"12.34\", got a list"));
}

TEST(ConfigLoaderTest, RefusesAnEmptyValue) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    reference_price:
    tick: "0.01"
firms: [{name: FRMA}]
)",
                      3, "instruments[0].reference_price", "got nothing"));
}

TEST(ConfigLoaderTest, RefusesWordsWhereAQuantityBelongs) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "1700", lot_size: abc)"), 2,
                      "instruments[0].lot_size", "must be a whole number of shares, got \"abc\""));
}

TEST(ConfigLoaderTest, RefusesAFractionalQuantity) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "1700", min_qty: 100.5)"), 2,
                      "instruments[0].min_qty", "must be a whole number of shares, got \"100.5\""));
}

TEST(ConfigLoaderTest, RefusesABooleanOtherThanTrueOrFalse) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "1700", odd_lot_sell: yes)"), 2,
                      "instruments[0].odd_lot_sell", "must be one of true, false; got \"yes\""));
}

// --- bad values --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, RefusesASymbolThatIsNotSixDigits) {
  for (const char* symbol : {"60051", "6005190", "60051X", "SH600519", ""}) {
    EXPECT_TRUE(refused(one_instrument("symbol: \"" + std::string(symbol) + "\", reference_price: \"10\""), 2,
                        "instruments[0].symbol", "must be exactly six digits, got \"" + std::string(symbol) + "\""));
  }
}

TEST(ConfigLoaderTest, RefusesABadFirmName) {
  for (const char* name : {"frma", "FRMAB", "FR-A", ""}) {
    EXPECT_TRUE(refused(one_firm("name: \"" + std::string(name) + "\""), 4, "firms[0].name",
                        "must be 1 to 4 uppercase letters or digits, got \"" + std::string(name) + "\""));
  }
}

TEST(ConfigLoaderTest, RefusesMalformedDecimals) {
  for (const char* price : {"12.3.4", "1e3", ".5", "5.", "12,34", "+12", " 12", "0x10", "abc", "", "NaN"}) {
    EXPECT_TRUE(refused(one_instrument("symbol: \"600519\", reference_price: \"" + std::string(price) + "\""), 2,
                        "instruments[0].reference_price",
                        "must be a price in CNY such as \"12.34\", got \"" + std::string(price) + "\""));
  }
}

TEST(ConfigLoaderTest, RefusesANegativePrice) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "-12.34")"), 2,
                      "instruments[0].reference_price", "must not be negative, got \"-12.34\""));
}

TEST(ConfigLoaderTest, RefusesANegativeQuantity) {
  EXPECT_TRUE(refused(one_firm("name: FRMA, max_open_shares: -5"), 4, "firms[0].max_open_shares",
                      "must not be negative, got \"-5\""));
}

TEST(ConfigLoaderTest, RefusesANegativeNotional) {
  EXPECT_TRUE(refused(one_firm(R"(name: FRMA, max_order_notional: "-1")"), 4, "firms[0].max_order_notional",
                      "must not be negative"));
}

TEST(ConfigLoaderTest, RefusesATickWithMoreThanFourDecimalsNamingLineAndField) {
  // The example of docs/configuration.md, exactly.
  const std::string text = R"(# line 1
engine: {max_orders: 1024}
instruments:
  - {symbol: "600519", reference_price: "1700"}
  - {symbol: "601318", reference_price: "52.30"}
  - symbol: "688981"
    name: SMIC
    board: star
    reference_price: "89.50"
    limit_pct: 20
    cage_pct: 2
    odd_lot_sell: true
    initial_status: trading
    tick: "0.00001"
firms: [{name: FRMA}]
)";
  try {
    (void)load_engine_config_from_string(text, "config/demo.yaml");
    FAIL() << "a tick of 0.00001 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "config/demo.yaml:14: instruments[2].tick: must be a positive multiple of 0.0001, got \"0.00001\"");
  }
}

TEST(ConfigLoaderTest, RefusesAPriceWithMoreThanFourDecimalsEvenIfTheyAreZeros) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "12.34567")"), 2,
                      "instruments[0].reference_price", "must be a positive multiple of 0.0001, got \"12.34567\""));
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "12.00000")"), 2,
                      "instruments[0].reference_price", "must be a positive multiple of 0.0001"));
}

TEST(ConfigLoaderTest, RefusesAZeroTick) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", tick: 0)"), 2,
                      "instruments[0].tick", "must be a positive multiple of 0.0001, got \"0\""));
}

TEST(ConfigLoaderTest, RefusesAPriceAboveWhatOuchCanCarry) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "214748.3648")"), 2,
                      "instruments[0].reference_price", "must be at most 214748.3647"));
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "99999999999999999999999")"), 2,
                      "instruments[0].reference_price", "must be at most 214748.3647"));
}

TEST(ConfigLoaderTest, RefusesAQuantityAboveThirtyTwoBits) {
  EXPECT_TRUE(refused(one_firm("name: FRMA, max_order_qty: 4294967296"), 4, "firms[0].max_order_qty",
                      "must be at most 4294967295, got \"4294967296\""));
}

TEST(ConfigLoaderTest, RefusesAZeroLotSize) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", lot_size: 0)"), 2,
                      "instruments[0].lot_size", "must be positive, got \"0\""));
}

TEST(ConfigLoaderTest, RefusesAPercentageFinerThanABasisPoint) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", cage_pct: "2.555")"), 2,
                      "instruments[0].cage_pct", "must be a multiple of 0.01 (a whole number of basis points)"));
}

TEST(ConfigLoaderTest, RefusesAPercentageAboveOneHundred) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", limit_pct: 150)"), 2,
                      "instruments[0].limit_pct", "must be at most 100, got \"150\""));
}

TEST(ConfigLoaderTest, RefusesADuplicateSymbolNamingBothLines) {
  EXPECT_TRUE(refused(R"(instruments:
  - {symbol: "600519", reference_price: "1700"}
  - {symbol: "601318", reference_price: "52.30"}
  - {symbol: "600519", reference_price: "1700"}
firms: [{name: FRMA}]
)",
                      4, "instruments[2].symbol",
                      "duplicate symbol \"600519\", already used by instruments[0] at line 2"));
}

TEST(ConfigLoaderTest, RefusesADuplicateFirmName) {
  EXPECT_TRUE(refused(R"(instruments: [{symbol: "600519", reference_price: "1700"}]
firms:
  - name: FRMA
  - name: FRMA
)",
                      4, "firms[1].name", "duplicate firm name \"FRMA\", already used by firms[0] at line 3"));
}

TEST(ConfigLoaderTest, RefusesAnUnknownSelfTradePreventionMode) {
  EXPECT_TRUE(refused(one_firm("name: FRMA, stp: cancel_new"), 4, "firms[0].stp",
                      "must be one of none, cancel_newest, cancel_oldest, cancel_both, decrement; got \"cancel_new\""));
}

TEST(ConfigLoaderTest, RefusesAnUnknownBoard) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "688981", board: kcb, reference_price: "10")"), 2,
                      "instruments[0].board", "must be one of main, star, chinext, risk_warning; got \"kcb\""));
}

TEST(ConfigLoaderTest, RefusesAnUnknownInitialStatus) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519", reference_price: "10", initial_status: open)"), 2,
                      "instruments[0].initial_status", "must be one of trading, halted, suspended, closed, opening_call, opening_call_frozen, break, "
                      "closing_call, resume_call; got \"open\""));
}

// --- missing things ----------------------------------------------------------------------------

TEST(ConfigLoaderTest, RefusesAnInstrumentWithoutSymbol) {
  EXPECT_TRUE(refused(one_instrument(R"(reference_price: "10")"), 2, "instruments[0].symbol", "is required"));
}

TEST(ConfigLoaderTest, RefusesAnInstrumentWithoutReferencePrice) {
  EXPECT_TRUE(refused(one_instrument(R"(symbol: "600519")"), 2, "instruments[0].reference_price", "is required"));
}

TEST(ConfigLoaderTest, RefusesAFirmWithoutName) {
  EXPECT_TRUE(refused(one_firm("stp: none"), 4, "firms[0].name", "is required"));
}

TEST(ConfigLoaderTest, RefusesAFileWithoutFirms) {
  EXPECT_TRUE(refused("instruments: [{symbol: \"600519\", reference_price: \"10\"}]\n", 1, "firms",
                      "section is missing"));
}

TEST(ConfigLoaderTest, RefusesAFileWithoutInstruments) {
  EXPECT_TRUE(refused("\nfirms: [{name: FRMA}]\n", 2, "instruments", "section is missing"));
}

// --- problems found by check_config(), placed at their line --------------------------------------

TEST(ConfigLoaderTest, RefusesOffTickReferencePriceNamingLineAndField) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    board: main
    reference_price: "1700.005"
firms: [{name: FRMA}]
)",
                      4, "instruments[0].reference_price", "multiple of the tick"));
}

TEST(ConfigLoaderTest, RefusesAnEmptyFirmListAtTheFirmsKey) {
  EXPECT_TRUE(refused("instruments: [{symbol: \"600519\", reference_price: \"10\"}]\n\nfirms: []\n", 3, "firms",
                      "at least one firm"));
}

TEST(ConfigLoaderTest, RefusesAnEmptyInstrumentListAtTheInstrumentsKey) {
  EXPECT_TRUE(refused("instruments: []\nfirms: [{name: FRMA}]\n", 1, "instruments", "at least one instrument"));
}

TEST(ConfigLoaderTest, BlamesTheBoardLineForABoardValueThatConflictsWithAnExplicitOne) {
  // STAR's max_order_qty of 100000 is below the explicit min_qty.
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "688981"
    board: star
    min_qty: 200000
    reference_price: "89.50"
firms: [{name: FRMA}]
)",
                      3, "instruments[0].max_order_qty", "(value from board: star)"));
}

TEST(ConfigLoaderTest, BlamesTheEntryLineForADefaultValueThatConflictsWithAnExplicitOne) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    min_qty: 2000000
    reference_price: "1700"
firms: [{name: FRMA}]
)",
                      2, "instruments[0].max_order_qty", "(default value)"));
}

TEST(ConfigLoaderTest, RefusesAZeroLimitAtItsLine) {
  EXPECT_TRUE(refused(R"(instruments:
  - symbol: "600519"
    reference_price: "1700"
    limit_pct: 0
firms: [{name: FRMA}]
)",
                      4, "instruments[0].limit_pct", "must be above 0"));
}

TEST(ConfigLoaderTest, RefusesAnOversizedOrderPoolAtItsLine) {
  EXPECT_TRUE(refused("engine:\n  max_tokens: 100\n  max_orders: 2000000000\n" + one_firm("name: FRMA"), 3,
                      "engine.max_orders", "must be between 1 and"));
}

}  // namespace loader_test
}  // namespace peregrine::config
