// The sections that make the EngineConfig: engine (table sizes), instruments (with the board
// presets) and firms.

#include <algorithm>
#include <string>
#include <vector>

#include "yaml_reader.hpp"

namespace peregrine::config::detail {

// --- engine ----------------------------------------------------------------------------------

const std::array<Parser::Field<EngineConfig>, 2> Parser::kEngineFields{{
    {"max_orders",
     [](const Parser& p, const Entry& e, const std::string& path, EngineConfig& c) {
       c.max_orders = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
    {"max_tokens",
     [](const Parser& p, const Entry& e, const std::string& path, EngineConfig& c) {
       c.max_tokens = static_cast<std::uint32_t>(p.read_number(e, path, kCount));
     }},
}};
const std::array<std::string_view, 2> Parser::kEngineKeys = keys_of(kEngineFields);

void Parser::read_engine(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["engine"];
  place.line = section.line;
  place.keys = kEngineKeys;
  const std::vector<Entry> fields = read_map(section.value, section.line, "engine", kEngineKeys, "a map");
  EntryPlace& ep = place.entries.emplace_back();
  ep.line = section.line;
  for (const Entry& e : fields) {
    ep.fields.emplace_back(e.key, e.line);
    for (const auto& f : kEngineFields) {
      if (f.key == e.key) f.read(*this, e, join("engine", e.key), cfg);
    }
  }
}

// --- instruments -----------------------------------------------------------------------------

const std::array<Parser::Field<InstrumentConfig>, 12> Parser::kInstrumentFields{{
    {"symbol",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       const std::string s = p.read_text(e, path, "six digits such as \"600519\"");
       if (s.size() != 6 || !all_digits(s)) p.fail(e.line, path, "must be exactly six digits, got " + in_quotes(s));
       c.symbol = Symbol::from(s);
     }},
    {"name",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.name = p.read_text(e, path, "text");
     }},
    {"board", [](const Parser&, const Entry&, const std::string&, InstrumentConfig&) {}},  // applied first
    {"reference_price",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.reference_price = Price{static_cast<std::int64_t>(p.read_number(e, path, kPrice))};
     }},
    {"tick",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.tick = Price{static_cast<std::int64_t>(p.read_number(e, path, kPrice))};
     }},
    {"lot_size",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.lot_size = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"min_qty",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.min_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"max_order_qty",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.max_order_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kShares))};
     }},
    {"odd_lot_sell",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.odd_lot_sell = p.read_choice(e, path, kBools);
     }},
    {"limit_pct",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.limit_bps = static_cast<std::uint32_t>(p.read_number(e, path, kPercent));
     }},
    {"cage_pct",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.cage_bps = static_cast<std::uint32_t>(p.read_number(e, path, kPercent));
     }},
    {"initial_status",
     [](const Parser& p, const Entry& e, const std::string& path, InstrumentConfig& c) {
       c.initial_status = p.read_choice(e, path, kStatuses);
     }},
}};
const std::array<std::string_view, 12> Parser::kInstrumentKeys = keys_of(kInstrumentFields);

void Parser::read_instruments(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["instruments"];
  place.line = section.line;
  place.list = true;
  place.keys = kInstrumentKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "instruments", "must be a list of instruments, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "instruments[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kInstrumentKeys, "an instrument");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    InstrumentConfig inst;
    if (const Entry* b = find_entry(fields, "board")) {
      std::array<Choice<const BoardPreset*>, kBoards.size()> boards{};
      for (std::size_t i = 0; i < kBoards.size(); ++i) boards[i] = {kBoards[i].name, &kBoards[i]};
      const BoardPreset* preset = read_choice(*b, join(path, "board"), boards);
      inst.lot_size = preset->lot_size;
      inst.min_qty = preset->min_qty;
      inst.max_order_qty = preset->max_order_qty;
      inst.limit_bps = preset->limit_bps;
      inst.cage_bps = preset->cage_bps;
      ep.board = preset->name;
      ep.board_line = b->line;
    }
    for (const Entry& e : fields) {
      for (const auto& f : kInstrumentFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), inst);
      }
    }
    if (find_entry(fields, "symbol") == nullptr) {
      fail(line, join(path, "symbol"), "is required (six digits such as \"600519\")");
    }
    if (find_entry(fields, "reference_price") == nullptr) {
      fail(line, join(path, "reference_price"), "is required (the previous close in CNY, such as \"12.34\")");
    }
    for (std::size_t j = 0; j < cfg.instruments.size(); ++j) {
      if (cfg.instruments[j].symbol == inst.symbol) {
        fail(ep.field_line("symbol"), join(path, "symbol"),
             "duplicate symbol " + in_quotes(inst.symbol.view()) + ", already used by instruments[" +
                 std::to_string(j) + "] at line " + std::to_string(place.entries[j].field_line("symbol")));
      }
    }
    cfg.instruments.push_back(std::move(inst));
  }
}

// --- firms -----------------------------------------------------------------------------------

const std::array<Parser::Field<FirmConfig>, 5> Parser::kFirmFields{{
    {"name",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       const std::string s = p.read_text(e, path, "1 to 4 uppercase letters or digits");
       const bool ok = !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), [](char ch) {
         return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
       });
       if (!ok) p.fail(e.line, path, "must be 1 to 4 uppercase letters or digits, got " + in_quotes(s));
       c.name = FirmName::from(s);
     }},
    {"stp",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.stp = p.read_choice(e, path, kStpModes);
     }},
    {"max_order_qty",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_order_qty = Qty{static_cast<std::uint32_t>(p.read_number(e, path, kSharesOrNone))};
     }},
    {"max_order_notional",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_order_notional = static_cast<std::int64_t>(p.read_number(e, path, kAmountOrNone));
     }},
    {"max_open_shares",
     [](const Parser& p, const Entry& e, const std::string& path, FirmConfig& c) {
       c.max_open_shares = p.read_number(e, path, kShares64OrNone);
     }},
}};
const std::array<std::string_view, 5> Parser::kFirmKeys = keys_of(kFirmFields);

void Parser::read_firms(const Entry& section, ServiceConfig& svc) {
  EngineConfig& cfg = svc.engine;
  SectionPlace& place = places_["firms"];
  place.line = section.line;
  place.list = true;
  place.keys = kFirmKeys;
  if (!section.value.IsSequence()) {
    fail(section.line, "firms", "must be a list of firms, got " + describe(section.value));
  }
  std::size_t index = 0;
  for (auto it = section.value.begin(); it != section.value.end(); ++it, ++index) {
    const YAML::Node item = *it;
    const std::string path = "firms[" + std::to_string(index) + "]";
    const int line = line_of(item.Mark());
    const std::vector<Entry> fields = read_map(item, line, path, kFirmKeys, "a firm");
    EntryPlace& ep = place.entries.emplace_back();
    ep.line = line;
    for (const Entry& e : fields) ep.fields.emplace_back(e.key, e.line);

    FirmConfig firm;
    for (const Entry& e : fields) {
      for (const auto& f : kFirmFields) {
        if (f.key == e.key) f.read(*this, e, join(path, e.key), firm);
      }
    }
    if (find_entry(fields, "name") == nullptr) {
      fail(line, join(path, "name"), "is required (1 to 4 uppercase letters or digits, such as \"FRMA\")");
    }
    for (std::size_t j = 0; j < cfg.firms.size(); ++j) {
      if (cfg.firms[j].name == firm.name) {
        fail(ep.field_line("name"), join(path, "name"),
             "duplicate firm name " + in_quotes(firm.name.view()) + ", already used by firms[" + std::to_string(j) +
                 "] at line " + std::to_string(place.entries[j].field_line("name")));
      }
    }
    cfg.firms.push_back(firm);
  }
}

}  // namespace peregrine::config::detail
