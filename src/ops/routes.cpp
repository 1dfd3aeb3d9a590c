#include "routes.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <optional>
#include <utility>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <spdlog/logger.h>

#include "peregrine/ops/auth.hpp"
#include "peregrine/ops/json.hpp"

namespace peregrine::ops::detail {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kText = "text/plain; charset=utf-8";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";
/// Most depth levels per side one request may ask for.
constexpr std::size_t kMaxDepthLevels = 100;
constexpr std::size_t kDefaultDepthLevels = 5;

Response make_response(unsigned version, bool keep_alive, http::status status, std::string body,
                       std::string_view content_type) {
  Response res{status, version};
  res.set(http::field::server, "peregrine");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response reply(const Request& req, http::status status, std::string body, std::string_view content_type) {
  return make_response(req.version(), req.keep_alive(), status, std::move(body), content_type);
}

std::string error_body(std::string_view message) {
  json::Writer w;
  w.begin_object().key("error").string(message).end_object();
  return w.take() + "\n";
}

bool is_success(http::status s) noexcept { return static_cast<unsigned>(s) < 300; }

Response json_error(const Request& req, http::status status, std::string_view message) {
  return reply(req, status, error_body(message), kJson);
}

bool is_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/// A symbol (1-8) or firm (1-4) name: letters and digits only, so it fits the OUCH field and is
/// safe in a log line.
bool valid_name(std::string_view v, std::size_t max_len) noexcept {
  if (v.empty() || v.size() > max_len) return false;
  for (const char c : v) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// application/x-www-form-urlencoded decoding of one key or value.
std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

using json::printable;

struct StatusMapping {
  http::status http;
  std::string_view result;
};

StatusMapping map_status(AdminStatus s) noexcept {
  switch (s) {
    case AdminStatus::Done: return {http::status::ok, "done"};
    case AdminStatus::Accepted: return {http::status::accepted, "accepted"};
    case AdminStatus::UnknownSymbol: return {http::status::not_found, "unknown_symbol"};
    case AdminStatus::UnknownFirm: return {http::status::not_found, "unknown_firm"};
    case AdminStatus::Busy: return {http::status::service_unavailable, "busy"};
    case AdminStatus::Unavailable: return {http::status::service_unavailable, "unavailable"};
    case AdminStatus::InvalidTransition: return {http::status::conflict, "invalid_transition"};
  }
  return {http::status::internal_server_error, "internal_error"};
}

/// The arguments of a mutating route, validated.
struct AdminArgs {
  std::optional<Symbol> symbol;
  std::optional<TradingStatus> phase;
  std::optional<FirmName> firm;
  bool cancel_open = false;
};

/// Which body fields a route takes.
struct FieldSpec {
  std::string_view name;
  enum class Kind : std::uint8_t { Symbol, Firm, Bool, Phase } kind;
  bool required;
};

/// Validates `obj` against `spec` into `args`; on failure returns the message (naming the field).
std::optional<std::string> read_fields(const json::FlatObject& obj, std::initializer_list<FieldSpec> spec,
                                       AdminArgs& args) {
  for (const auto& m : obj.members) {
    bool known = false;
    for (const FieldSpec& f : spec) known = known || f.name == m.key;
    if (!known) return "unknown field '" + printable(m.key) + "'";
  }
  for (const FieldSpec& f : spec) {
    const json::Value* v = obj.find(f.name);
    if (v == nullptr || v->kind == json::Value::Kind::Null) {  // null means absent
      if (f.required) return "field '" + std::string(f.name) + "' is required";
      continue;
    }
    switch (f.kind) {
      case FieldSpec::Kind::Symbol:
        if (v->kind != json::Value::Kind::String || !valid_name(v->text, 8)) {
          return "field '" + std::string(f.name) + "' must be a string of 1 to 8 letters or digits";
        }
        args.symbol = Symbol::from(v->text);
        break;
      case FieldSpec::Kind::Firm:
        if (v->kind != json::Value::Kind::String || !valid_name(v->text, 4)) {
          return "field '" + std::string(f.name) + "' must be a string of 1 to 4 letters or digits";
        }
        args.firm = FirmName::from(v->text);
        break;
      case FieldSpec::Kind::Phase: {
        std::string names;
        for (const auto& [status, name] : kTradingStatusNames) {
          if (v->kind == json::Value::Kind::String && v->text == name) args.phase = status;
          names += names.empty() ? "" : ", ";
          names += name;
        }
        if (!args.phase) return "field '" + std::string(f.name) + "' must be one of " + names;
        break;
      }
      case FieldSpec::Kind::Bool:
        if (v->kind != json::Value::Kind::Bool) {
          return "field '" + std::string(f.name) + "' must be true or false";
        }
        args.cancel_open = v->boolean;
        break;
    }
  }
  return std::nullopt;
}

}  // namespace

Router::Router(AdminBackend& backend, std::string token, std::shared_ptr<spdlog::logger> logger,
               const std::atomic<bool>& ready, prometheus::Registry& registry, CollectableList& collectables)
    : backend_(backend),
      token_(std::move(token)),
      logger_(std::move(logger)),
      ready_(ready),
      registry_(registry),
      requests_(prometheus::BuildCounter()
                    .Name("peregrine_http_requests_total")
                    .Help("HTTP requests served by the ops server, by route and status code.")
                    .Register(registry)),
      unauthorized_(prometheus::BuildCounter()
                        .Name("peregrine_admin_unauthorized_total")
                        .Help("Admin requests refused for a missing or wrong bearer token, or because no "
                              "token is configured.")
                        .Register(registry)),
      // Every series exists from the start, so alerts on increase() see the first refusal.
      unauthorized_missing_(unauthorized_.Add({{"reason", "missing"}})),
      unauthorized_invalid_(unauthorized_.Add({{"reason", "invalid"}})),
      unauthorized_unconfigured_(unauthorized_.Add({{"reason", "no_token_configured"}})),
      collectables_(collectables) {}

const Router::Route* Router::find_route(std::string_view path) noexcept {
  static constexpr std::array<Route, 12> kRoutes{{
      {"/metrics", http::verb::get, RouteId::Metrics, false},
      {"/healthz", http::verb::get, RouteId::Healthz, false},
      {"/readyz", http::verb::get, RouteId::Readyz, false},
      {"/admin/depth", http::verb::get, RouteId::Depth, false},
      {"/admin/halt", http::verb::post, RouteId::Halt, true},
      {"/admin/resume", http::verb::post, RouteId::Resume, true},
      {"/admin/phase", http::verb::post, RouteId::Phase, true},
      {"/admin/kill", http::verb::post, RouteId::Kill, true},
      {"/admin/release", http::verb::post, RouteId::Release, true},
      {"/admin/mass-cancel", http::verb::post, RouteId::MassCancel, true},
      {"/admin/snapshot", http::verb::post, RouteId::Snapshot, true},
      {"/admin/promote", http::verb::post, RouteId::Promote, true},
  }};
  for (const Route& r : kRoutes) {
    if (r.path == path) return &r;
  }
  return nullptr;
}

Response Router::handle(const Request& req, std::string_view peer) noexcept {
  std::string_view route_label = "other";
  Response res;
  try {
    res = dispatch(req, peer, route_label);
  } catch (const std::exception& e) {
    logger_->error("{} {} from {}: internal error: {}", std::string_view(req.method_string()), route_label, peer,
                   e.what());
    res = make_response(req.version(), false, http::status::internal_server_error, error_body("internal error"), kJson);
  } catch (...) {
    logger_->error("{} {} from {}: internal error", std::string_view(req.method_string()), route_label, peer);
    res = make_response(req.version(), false, http::status::internal_server_error, error_body("internal error"), kJson);
  }
  try {
    requests_.Add({{"route", std::string(route_label)}, {"code", std::to_string(res.result_int())}}).Increment();
  } catch (...) {
    // Counting must never fail a response.
  }
  return res;
}

Response Router::unparsed_error(http::status status, std::string_view message) noexcept {
  try {
    requests_.Add({{"route", "none"}, {"code", std::to_string(static_cast<unsigned>(status))}}).Increment();
  } catch (...) {
  }
  return make_response(11, false, status, error_body(message), kJson);
}

Response Router::dispatch(const Request& req, std::string_view peer, std::string_view& route_label) {
  const std::string_view target = req.target();
  const std::size_t qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);

  const Route* route = find_route(path);
  if (route == nullptr) {
    return json_error(req, http::status::not_found, "no such route");
  }
  route_label = route->path;
  if (req.method() != route->method) {
    Response res = json_error(req, http::status::method_not_allowed,
                              route->method == http::verb::get ? "method not allowed: use GET" : "method not allowed: use POST");
    res.set(http::field::allow, route->method == http::verb::get ? "GET" : "POST");
    return res;
  }
  if (route->mutating) {
    if (!authorized(req, *route, peer)) {
      // Without a configured token no credential can succeed: say so, rather than blame the caller's.
      Response res = json_error(req, http::status::unauthorized,
                                token_.empty() ? "no admin token is configured on this server (admin.token_file): "
                                                 "admin calls that change state are disabled"
                                               : "missing or invalid bearer token");
      res.set(http::field::www_authenticate, "Bearer realm=\"peregrine-admin\"");
      return res;
    }
    return mutate(req, *route, peer);
  }
  switch (route->id) {
    case RouteId::Metrics: return metrics(req);
    case RouteId::Healthz: return reply(req, http::status::ok, "ok\n", kText);
    case RouteId::Readyz:
      return ready_.load(std::memory_order_acquire) ? reply(req, http::status::ok, "ready\n", kText)
                                                    : reply(req, http::status::service_unavailable, "not ready\n", kText);
    case RouteId::Depth: return depth(req, query);
    default: break;
  }
  return json_error(req, http::status::internal_server_error, "internal error");
}

bool Router::authorized(const Request& req, const Route& route, std::string_view peer) {
  const auto header = req.find(http::field::authorization);
  const std::optional<std::string_view> token =
      header == req.end() ? std::nullopt : bearer_token(std::string_view(header->value()));
  // One line per refusal; never the presented credential.
  if (token_.empty()) {
    // No token file: nothing matches, not even an empty bearer, and no caller is at fault.
    unauthorized_unconfigured_.Increment();
    logger_->warn("admin {} {} from {} refused: no admin token is configured (admin.token_file)",
                  std::string_view(req.method_string()), route.path, peer);
    return false;
  }
  if (token && constant_time_equal(token_, *token)) return true;
  const bool missing = !token.has_value();
  (missing ? unauthorized_missing_ : unauthorized_invalid_).Increment();
  logger_->warn("admin {} {} from {} refused: {}", std::string_view(req.method_string()), route.path, peer,
                missing ? "no bearer token" : "wrong bearer token");
  return false;
}

Response Router::metrics(const Request& req) {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  for (const auto& c : collectables_.live()) {
    auto more = c->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return reply(req, http::status::ok, prometheus::TextSerializer().Serialize(families), kPrometheusText);
}

Response Router::depth(const Request& req, std::string_view query) {
  std::optional<std::string> symbol_text;
  std::optional<std::string> levels_text;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const auto key = url_decode(pair.substr(0, eq));
    const auto value = url_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!key || !value) return json_error(req, http::status::bad_request, "malformed query string");
    std::optional<std::string>* slot = nullptr;
    if (*key == "symbol") {
      slot = &symbol_text;
    } else if (*key == "levels") {
      slot = &levels_text;
    } else {
      return json_error(req, http::status::bad_request, "unknown parameter '" + printable(*key) + "'");
    }
    if (slot->has_value()) {
      return json_error(req, http::status::bad_request, "parameter '" + *key + "' given more than once");
    }
    *slot = *value;
  }
  if (!symbol_text) return json_error(req, http::status::bad_request, "parameter 'symbol' is required");
  if (!valid_name(*symbol_text, 8)) {
    return json_error(req, http::status::bad_request, "parameter 'symbol' must be 1 to 8 letters or digits");
  }
  std::size_t levels = kDefaultDepthLevels;
  if (levels_text) {
    const char* first = levels_text->data();
    const char* last = first + levels_text->size();
    const auto r = std::from_chars(first, last, levels);
    if (levels_text->empty() || r.ec != std::errc{} || r.ptr != last || levels < 1 || levels > kMaxDepthLevels) {
      return json_error(req, http::status::bad_request,
                        "parameter 'levels' must be an integer from 1 to " + std::to_string(kMaxDepthLevels));
    }
  }
  const Symbol symbol = Symbol::from(*symbol_text);
  DepthSnapshot snap;
  const AdminResult result = backend_.depth(symbol, levels, snap);
  if (result.status != AdminStatus::Done && result.status != AdminStatus::Accepted) {
    const StatusMapping m = map_status(result.status);
    json::Writer w;
    w.begin_object().key("symbol").string(symbol.view()).key("result").string(m.result);
    w.key("error").string(result.status == AdminStatus::UnknownSymbol ? "unknown symbol" : "depth not available");
    if (!result.detail.empty()) w.key("detail").string(result.detail);
    w.end_object();
    Response res = reply(req, m.http, w.take() + "\n", kJson);
    if (result.status == AdminStatus::Busy) res.set(http::field::retry_after, "1");
    return res;
  }
  json::Writer w;
  w.begin_object().key("symbol").string(symbol.view()).key("status").string(to_string(snap.status));
  const auto side = [&](std::string_view name, const std::vector<DepthLevel>& levels_in) {
    w.key(name).begin_array();
    const std::size_t n = std::min(levels, levels_in.size());
    for (std::size_t i = 0; i < n; ++i) {
      const DepthLevel& l = levels_in[i];
      w.begin_object()
          .key("price")
          .fixed_point(l.price.value(), 4)
          .key("qty")
          .unsigned_integer(l.qty)
          .key("orders")
          .unsigned_integer(l.orders)
          .end_object();
    }
    w.end_array();
  };
  side("bids", snap.bids);
  side("asks", snap.asks);
  if (snap.indicative) {
    const AuctionInfo& a = *snap.indicative;
    const char* direction = a.price.value() == 0 ? "none" : !a.surplus ? "balanced" : a.surplus == Side::Buy ? "buy" : "sell";
    w.key("indicative").begin_object();
    w.key("price").fixed_point(a.price.value(), 4);
    w.key("paired").unsigned_integer(a.paired);
    w.key("imbalance").unsigned_integer(a.imbalance);
    w.key("imbalance_side").string(direction);
    w.end_object();
  }
  w.end_object();
  return reply(req, http::status::ok, w.take() + "\n", kJson);
}

Response Router::mutate(const Request& req, const Route& route, std::string_view peer) {
  // /admin/snapshot and /admin/promote take no fields: an empty body is as good as {}.
  const bool empty_ok = (route.id == RouteId::Snapshot || route.id == RouteId::Promote) && req.body().empty();
  const json::ParseResult parsed = json::parse_flat_object(empty_ok ? std::string_view("{}") : std::string_view(req.body()));
  if (!parsed) return json_error(req, http::status::bad_request, parsed.error);

  using K = FieldSpec::Kind;
  AdminArgs args;
  std::optional<std::string> bad;
  std::string_view action;
  switch (route.id) {
    case RouteId::Halt:
      action = "halt";
      bad = read_fields(*parsed.object, {{"symbol", K::Symbol, true}}, args);
      break;
    case RouteId::Resume:
      action = "resume";
      bad = read_fields(*parsed.object, {{"symbol", K::Symbol, true}}, args);
      break;
    case RouteId::Phase:
      action = "phase";
      bad = read_fields(*parsed.object, {{"symbol", K::Symbol, true}, {"phase", K::Phase, true}}, args);
      break;
    case RouteId::Kill:
      action = "kill";
      bad = read_fields(*parsed.object, {{"firm", K::Firm, true}, {"cancel_open", K::Bool, false}}, args);
      break;
    case RouteId::Release:
      action = "release";
      bad = read_fields(*parsed.object, {{"firm", K::Firm, true}}, args);
      break;
    case RouteId::MassCancel:
      action = "mass_cancel";
      bad = read_fields(*parsed.object, {{"firm", K::Firm, true}, {"symbol", K::Symbol, false}}, args);
      break;
    case RouteId::Snapshot:
      action = "snapshot";
      bad = read_fields(*parsed.object, {}, args);
      break;
    case RouteId::Promote:
      action = "promote";
      bad = read_fields(*parsed.object, {}, args);
      break;
    default: return json_error(req, http::status::internal_server_error, "internal error");
  }
  if (bad) return json_error(req, http::status::bad_request, *bad);

  AdminResult result;
  switch (route.id) {
    case RouteId::Halt: result = backend_.halt(*args.symbol); break;
    case RouteId::Resume: result = backend_.resume(*args.symbol); break;
    case RouteId::Phase: result = backend_.set_phase(*args.symbol, *args.phase); break;
    case RouteId::Kill: result = backend_.kill(*args.firm, args.cancel_open); break;
    case RouteId::Release: result = backend_.release(*args.firm); break;
    case RouteId::MassCancel: result = backend_.mass_cancel(*args.firm, args.symbol); break;
    case RouteId::Snapshot: result = backend_.snapshot(); break;
    case RouteId::Promote: result = backend_.promote(); break;
    default: break;
  }
  const StatusMapping m = map_status(result.status);

  json::Writer w;
  w.begin_object().key("action").string(action);
  if (args.firm) w.key("firm").string(args.firm->view());
  if (args.symbol) w.key("symbol").string(args.symbol->view());
  if (args.phase) w.key("phase").string(to_string(*args.phase));
  if (route.id == RouteId::Kill) w.key("cancel_open").boolean(args.cancel_open);
  w.key("result").string(m.result);
  if (!result.detail.empty()) w.key("detail").string(result.detail);
  w.end_object();

  // The audit line: who asked for what, and what came of it. Only the arguments the route takes
  // are named, so that a line never shows a setting that played no part.
  std::string asked(action);
  if (args.firm) asked.append(" firm=").append(args.firm->view());
  if (args.symbol) {
    asked.append(" symbol=").append(args.symbol->view());
  } else if (route.id == RouteId::MassCancel) {
    asked.append(" symbol=(all)");  // parentheses: never a symbol
  }
  if (args.phase) asked.append(" phase=").append(to_string(*args.phase));
  if (route.id == RouteId::Kill) asked.append(args.cancel_open ? " cancel_open=true" : " cancel_open=false");
  // A refusal (4xx, 5xx) is a warning: the operator's request did not happen.
  const auto level = is_success(m.http) ? spdlog::level::info : spdlog::level::warn;
  if (result.detail.empty()) {
    logger_->log(level, "admin {} from {}: {} {}", asked, peer, static_cast<unsigned>(m.http), m.result);
  } else {
    logger_->log(level, "admin {} from {}: {} {} ({})", asked, peer, static_cast<unsigned>(m.http), m.result,
                 result.detail);
  }

  Response res = reply(req, m.http, w.take() + "\n", kJson);
  if (result.status == AdminStatus::Busy) res.set(http::field::retry_after, "1");
  return res;
}

}  // namespace peregrine::ops::detail
