#include "webserver/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>

#include "platform/log.hpp"
#include "platform/text.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/protocol.hpp"
#include "webserver/query.hpp"
#include "webserver/query_apply.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_body.hpp"
#include "webserver/request_read_cache.hpp"

namespace dualsp::web {
namespace {

bool isRead(HttpMethod method) {
  return method == HttpMethod::Get || method == HttpMethod::Head;
}

// What DSP0266 asks of any request before its resource is looked up: a method spweb knows
// (501 otherwise, RFC 9110 15.6.2) and OData 4.0 (412 otherwise).
bool protocolAccepted(const Request& request, Response& res) {
  if (request.method == HttpMethod::Other) {
    messages::methodNotImplemented(res);
    return false;
  }
  if (!odataVersionAccepted(request)) {
    messages::odataVersionNotSupported(res);
    return false;
  }
  return true;
}

// A read says what else the resource takes (DSP0266 "Allow"); a 405 has its own Allow.
void addAllowToRead(const Request& request, const RouteMatch& match, Response& res) {
  if (isRead(request.method) && match.allowed.contains(request.method))
    res.addHeader("Allow", match.allowed.toString());
}

// The $ query parameters `request` may carry on `route`: the route's own, and on a resource's
// GET or HEAD the generic ones (query.hpp).
std::vector<std::string_view> implementedQueries(const Request& request, const Route& route) {
  std::vector<std::string_view> implemented = route.queries;
  if (isRead(request.method) && route.generic_queries)
    implemented.insert(implemented.end(), std::begin(query::kGenericParameters),
                       std::end(query::kGenericParameters));
  return implemented;
}

// 501 for a $ query parameter the route does not implement ($only, $count, ...; any on a
// change or on what is not a resource).
bool queryImplemented(const Request& request, const Route& route, Response& res) {
  std::optional<std::string> unimplemented =
      unimplementedQueryParameter(request, implementedQueries(request, route));
  if (!unimplemented) return true;
  messages::queryParameterUnsupported(res, query::shownQueryText(*unimplemented));
  return false;
}

// What the query options apply to: a Redfish resource answered 200 (not an error, the event
// stream or a document without @odata.id).
bool queryApplies(const Response& res) {
  return res.status == 200 && !res.event_stream && res.body.is_object() &&
         res.body.contains("@odata.id");
}

// A PATCH of OData annotations alone ({"@odata.id": ...}) changes nothing: 400 NoOperation
// (DSP0266 "PATCH (update)"), before the handler would call each annotation unknown.
bool patchChangesSomething(const Request& request, Response& res) {
  if (request.method != HttpMethod::Patch) return true;
  BodyProblem problem = BodyProblem::None;
  std::optional<Json> body = parseRequestJson(request.body, problem);
  if (!body || !body->is_object() || body->empty()) return true;  // the handler's to refuse
  for (const auto& [key, value] : body->items())
    if (key.empty() || key[0] != '@') return true;
  messages::noOperation(res);
  return false;
}

// A resource read carries its ETag and the schema that describes it (DSP0266 "ETags", "Link
// header"). HEAD runs the GET handler too, so it gets the same headers.
void addRepresentationHeaders(const Request& request, Response& res) {
  if (!isRead(request.method) || res.status != 200 || !res.body.is_object() || res.event_stream)
    return;
  res.addHeader("ETag", etagOf(res.body));
  if (std::optional<std::string> link = describedByLink(res.body)) res.addHeader("Link", *link);
}

}  // namespace

struct Dispatcher::RequestScope {
  RequestScope(const Request& client_request, ipc::CommandClient& bus)
      : request(client_request), direct(bus) {
    if (isRead(client_request.method)) reads.emplace(bus);
  }
  // Where this request's commands go: through the read cache on a GET or HEAD, marked with
  // the Idempotency-Key on a keyed change.
  ipc::CommandClient& bus() {
    if (keyed) return *keyed;
    return reads ? static_cast<ipc::CommandClient&>(*reads) : direct;
  }
  // Who the request comes from, once authenticated (empty otherwise: NoAuth, refused).
  Identity caller() const {
    return auth && auth->status == AuthStatus::Ok ? auth->identity : Identity{};
  }

  const Request& request;  // the client's
  ipc::CommandClient& direct;
  std::optional<RequestReadCache> reads;
  ipc::CommandClient* keyed = nullptr;
  std::optional<AuthOutcome> auth;
  bool board_read = false;
  std::optional<ipc::StatusSnapshot> board;
};

// The reads $expand and $filter make: internal GETs through this dispatcher's routes.
class Dispatcher::QueryReader final : public query::ResourceReader {
 public:
  QueryReader(const Dispatcher& dispatcher, RequestScope& scope)
      : dispatcher_(dispatcher), scope_(scope) {}
  Response read(const std::string& path, const std::string& query) override {
    return dispatcher_.readForQuery(path, query, scope_);
  }

 private:
  const Dispatcher& dispatcher_;
  RequestScope& scope_;
};

std::vector<messages::FaultMessage> faultsOnBoard(const ipc::StatusSnapshot& status) {
  std::vector<messages::FaultMessage> out;
  const size_t count = std::min<size_t>(status.fault_count, ipc::StatusSnapshot::kMaxFaults);
  for (size_t i = 0; i < count; ++i) {
    const ipc::SnapshotFault& f = status.faults[i];
    // Bounded reads: the board is another process's memory.
    out.push_back({std::string(f.message_id, strnlen(f.message_id, sizeof f.message_id)),
                   std::string(f.text, strnlen(f.text, sizeof f.text)), healthState(f.severity)});
  }
  return out;
}

int64_t systemWallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Dispatcher::Dispatcher(RouteTable routes, ServiceConfig config, StatusReader read_status,
                       ipc::CommandClient& bus, WallClockMs now_ms, Authenticator authenticate)
    : routes_(std::move(routes)),
      config_(std::move(config)),
      read_status_(std::move(read_status)),
      bus_(bus),
      now_ms_(std::move(now_ms)),
      authenticate_(authenticate ? std::move(authenticate) : busAuthenticator(bus, config_.sp)) {}

Response Dispatcher::handle(const Request& request) const {
  Response res;
  RequestScope scope(request, bus_);
  try {
    route(request, res, scope);
  } catch (const std::exception& e) {
    LOG_ERROR << methodName(request.method) << " " << request.path << ": " << e.what();
    res = Response{};
    messages::internalError(res);
  }
  audit(request, res, scope.caller());
  addCommonHeaders(res);
  addRepresentationHeaders(request, res);
  return res;
}

void Dispatcher::route(const Request& request, Response& res, RequestScope& scope) const {
  if (!protocolAccepted(request, res)) return;
  // No resource has a name that is not UTF-8, and a path parameter that is not would reach
  // spd inside a protobuf string, which spd cannot parse: it drops the command and the client
  // waits for the whole bus timeout (found by tests/fuzz/request_handlers_fuzz.cpp).
  std::optional<RouteMatch> match;
  if (text::validUtf8(request.path)) match = routes_.match(routedPath(request), request.method);
  if (!match) {
    messages::resourceNotFound(res, "Resource", request.path);
    return;
  }
  addAllowToRead(request, *match, res);
  const Route& route = *match->route;
  if (!route.methods.contains(request.method)) {
    messages::operationNotAllowed(res, match->allowed);
    return;
  }
  if (!servedInMode(*match, config_.mode, config_.sp)) {
    answerDegraded(res);
    return;
  }
  if (request.body_too_large) {
    messages::payloadTooLarge(res);
    return;
  }
  if (!authorize(route, res, scope)) return;
  if (!queryImplemented(request, route, res)) return;
  std::optional<query::Options> options;
  if (isRead(request.method) && route.generic_queries) {
    options = query::parseOptions(request, route.queries, res);
    if (!options) return;
  }
  if (!patchChangesSomething(request, res)) return;
  // Before the precondition: a retry's If-Match names the ETag the first attempt changed.
  if (std::optional<std::string> key = request.header(idempotency::kHeader);
      key && idempotency::keyable(request) && route.privilege != Privilege::NoAuth &&
      !idempotency::refusedBody(request)) {
    serveKeyed(request, *match, res, scope, *key);
    return;
  }
  if (!preconditionHolds(request, res)) return;
  if (!options || options->empty()) {
    serve(request, *match, res, scope);
    return;
  }
  // A route that pages itself is asked for all of its pages when its members are filtered.
  const std::optional<Request> unpaged =
      options->read_every_page ? std::optional(query::withoutPaging(request)) : std::nullopt;
  if (!serve(unpaged ? *unpaged : request, *match, res, scope) || !queryApplies(res)) return;
  QueryReader reader(*this, scope);
  query::applyOptions(*options, request, reader, res);
}

bool Dispatcher::serve(const Request& request, const RouteMatch& match, Response& res,
                       RequestScope& scope) const {
  const Route& route = *match.route;
  const ipc::StatusSnapshot* status = nullptr;
  if (route.source == DataSource::StatusBoard || route.source == DataSource::LocalBusAndBoard) {
    if (!scope.board_read) {
      scope.board = readStatus();  // one snapshot for the whole request
      scope.board_read = true;
    }
    if (!scope.board && route.source == DataSource::StatusBoard) {
      messages::serviceTemporarilyUnavailable(res, kRetryAfterNoStatusSeconds);
      return false;
    }
    if (scope.board) status = &*scope.board;
  }
  RequestContext ctx{request,
                     match.params,
                     config_,
                     status,
                     scope.bus(),
                     now_ms_(),
                     route.privilege == Privilege::NoAuth ? nullptr : &scope.auth->identity,
                     scope.reads ? &*scope.reads : nullptr};
  route.handler(ctx, res);
  return true;
}

Response Dispatcher::readForQuery(const std::string& path, const std::string& query,
                                  RequestScope& scope) const {
  Response res;
  Request get;
  get.method = HttpMethod::Get;
  get.path = path;
  get.query = query;
  get.headers = scope.request.headers;
  get.remote_address = scope.request.remote_address;
  std::optional<RouteMatch> match;
  if (text::validUtf8(path)) match = routes_.match(path, HttpMethod::Get);
  if (!match || !match->route->methods.contains(HttpMethod::Get)) {
    messages::resourceNotFound(res, "Resource", path);
    return res;
  }
  const Route& route = *match->route;
  if (!servedInMode(*match, config_.mode, config_.sp)) {
    answerDegraded(res);
    return res;
  }
  if (!authorize(route, res, scope) || !queryImplemented(get, route, res)) return res;
  try {
    serve(get, *match, res, scope);
  } catch (const std::exception& e) {
    LOG_ERROR << "GET " << path << " (for a query): " << e.what();
    res = Response{};
    messages::internalError(res);
  }
  return res;
}

const AuthOutcome& Dispatcher::authenticateOnce(RequestScope& scope) const {
  if (!scope.auth) scope.auth = authenticate_(scope.request);
  return *scope.auth;
}

bool Dispatcher::authorize(const Route& route, Response& res, RequestScope& scope) const {
  if (route.privilege == Privilege::NoAuth) return true;
  const AuthOutcome& outcome = authenticateOnce(scope);
  switch (outcome.status) {
    case AuthStatus::Ok:
      break;
    case AuthStatus::NoCredentials:
    case AuthStatus::Rejected:
      messages::noValidSession(res);
      return false;
    case AuthStatus::TooManyFailures:
      messages::tooManyFailedLogins(res, kRetryAfterLoginFailuresSeconds);
      return false;
    case AuthStatus::Unavailable:
      messages::serviceTemporarilyUnavailable(res, kRetryAfterNoStatusSeconds);
      return false;
  }
  const Identity& caller = outcome.identity;
  if (caller.password_change_required && !route.before_password_change) {
    messages::passwordChangeRequired(res, "/redfish/v1/AccountService/Accounts/" + caller.user);
    return false;
  }
  if (!roleHas(caller.role, route.privilege)) {
    messages::insufficientPrivilege(res);
    return false;
  }
  return true;
}

void Dispatcher::audit(const Request& request, const Response& res, const Identity& caller) const {
  bool change = request.method != HttpMethod::Get && request.method != HttpMethod::Head;
  bool refused = res.status == 401 || res.status == 403 || res.status == 429;
  if (!change && !refused) return;
  // Never the credentials: the user name the account service returned, the client's address.
  LOG_NOTICE << "audit: " << (caller.user.empty() ? "(no account)" : caller.user) << " from "
             << request.remote_address << ": " << methodName(request.method) << " " << request.path
             << " -> " << res.status;
}

bool Dispatcher::preconditionHolds(const Request& request, Response& res) const {
  if (request.method != HttpMethod::Patch && request.method != HttpMethod::Put &&
      request.method != HttpMethod::Delete)
    return true;
  std::optional<std::string> condition = request.header("If-Match");
  // "*": any current representation; a handler answers 404 when there is none.
  if (!condition || anyEtag(*condition)) return true;
  std::optional<RouteMatch> read = routes_.match(request.path, HttpMethod::Get);
  if (!read || !read->route->methods.contains(HttpMethod::Get)) return true;  // nothing to compare
  // The GET of the same path, as this client would make it: same headers, same checks.
  Request get = request;
  get.method = HttpMethod::Get;
  get.query.clear();
  get.body.clear();
  Response current;
  RequestScope same_caller(get, bus_);  // authenticated again, by the same credentials
  route(get, current, same_caller);
  if (current.status != 200) {
    res = std::move(current);  // no current ETag to compare with: why not (404, 503, ...)
    return false;
  }
  if (etagListMatches(*condition, etagOf(current.body))) return true;
  messages::preconditionFailed(res);
  return false;
}

void Dispatcher::serveKeyed(const Request& request, const RouteMatch& match, Response& res,
                            RequestScope& scope, const std::string& key) const {
  using idempotency::CheckAnswer;
  if (!idempotency::validKey(key)) {
    messages::headerInvalid(res, idempotency::kHeader);
    return;
  }
  const Identity caller = scope.caller();
  proto::Caller who;
  who.set_user(caller.user);
  who.set_role(caller.role);
  who.set_origin("web " + request.remote_address);
  const std::string id = idempotency::requestId(caller.user, key);
  const std::string fp = idempotency::fingerprint(request);
  const std::string attempt = idempotency::newAttempt();
  // What the first attempt left: its result, its change alone, or nothing.
  auto answerFrom = [&](const CheckAnswer& known) {
    switch (known.state) {
      case CheckAnswer::State::Failed:
        commandSucceeded(known.failure, res, "Idempotency-Key", "");
        return;
      case CheckAnswer::State::Mismatch:
        messages::idempotencyKeyReused(res);
        return;
      case CheckAnswer::State::InProgress:
        messages::idempotencyKeyInProgress(res, idempotency::kRetryAfterInProgressSeconds);
        return;
      case CheckAnswer::State::Done:
        if (idempotency::replayable(known))
          idempotency::replay(known, res);
        else
          answerApplied(request, known.created, res);  // e.g. the body was too large to keep
        break;
      case CheckAnswer::State::Applied:
        answerApplied(request, known.created, res);
        break;
      case CheckAnswer::State::None:
        return;
    }
    res.addHeader(std::string(idempotency::kReplayedHeader), "true");
  };
  // Ends an attempt that made nothing (spd keeps no result of it).
  auto endAttempt = [&](const std::string& which) {
    Response nothing;
    nothing.status = 500;
    idempotency::record(scope.direct, who, id, fp, which, nothing);
  };
  CheckAnswer known = idempotency::check(scope.direct, who, id, fp, attempt);
  if (known.state != CheckAnswer::State::None) return answerFrom(known);

  idempotency::KeyedBus keyed(scope.direct, id, fp, attempt);
  scope.keyed = &keyed;
  try {
    if (preconditionHolds(request, res)) serve(request, match, res, scope);
  } catch (...) {
    scope.keyed = nullptr;
    endAttempt(attempt);
    throw;
  }
  scope.keyed = nullptr;
  if (keyed.appliedElsewhere()) {
    // Another attempt with this key made the change first (it raced this one across a
    // failover): this one made nothing; answer as that one did.
    endAttempt(attempt);
    res = Response{};
    const std::string again = idempotency::newAttempt();
    CheckAnswer first = idempotency::check(scope.direct, who, id, fp, again);
    if (first.state == CheckAnswer::State::None) {
      // The marker is gone again (retention): end the check's attempt, let the client retry.
      endAttempt(again);
      messages::idempotencyKeyInProgress(res, idempotency::kRetryAfterInProgressSeconds);
      return;
    }
    return answerFrom(first);
  }
  idempotency::record(scope.direct, who, id, fp, attempt, res);
}

Response Dispatcher::readAsClient(const Request& request, const std::string& path) const {
  Request get;
  get.method = HttpMethod::Get;
  get.path = path;
  get.headers = request.headers;
  get.remote_address = request.remote_address;
  Response current;
  RequestScope same_caller(get, bus_);  // authenticated again, by the same credentials
  route(get, current, same_caller);
  return current;
}

void Dispatcher::answerApplied(const Request& request, const std::string& created,
                               Response& res) const {
  res = Response{};
  res.status = 204;
  if (request.method == HttpMethod::Patch || request.method == HttpMethod::Put) {
    Response now = readAsClient(request, request.path);
    if (now.status == 200) {
      res.body = std::move(now.body);
      res.status = 200;
    }
    return;
  }
  if (request.method != HttpMethod::Post || created.empty() ||
      request.path.find("/Actions/") != std::string::npos)
    return;
  std::string location = request.path;
  while (location.size() > 1 && location.back() == '/') location.pop_back();
  location += "/" + created;
  res.status = 201;
  res.addHeader("Location", location);
  Response now = readAsClient(request, location);
  if (now.status == 200) res.body = std::move(now.body);
}

void Dispatcher::answerDegraded(Response& res) const {
  std::optional<ipc::StatusSnapshot> status = readStatus();
  std::optional<std::vector<messages::FaultMessage>> faults;
  if (status) faults = faultsOnBoard(*status);
  messages::serviceDegraded(res, kRetryAfterDegradedSeconds, spName(config_.sp),
                            faults ? &*faults : nullptr);
}

std::optional<ipc::StatusSnapshot> Dispatcher::readStatus() const {
  std::optional<ipc::StatusSnapshot> status = read_status_();
  const char* problem = nullptr;
  if (!status) {
    problem = "not published yet";
  } else if (status->layout_version != ipc::StatusSnapshot::kLayoutVersion) {
    problem = "written with another layout version";
    status.reset();
  } else if (status->sp != config_.sp) {
    // The board of the other SP: answering from it would make this SP speak as its peer.
    problem = "belongs to the other SP";
    status.reset();
  }
  BoardState now = status ? BoardState::Readable : BoardState::Unreadable;
  BoardState before = board_state_.exchange(now);
  if (now != before && problem) {
    LOG_WARNING << "status board " << problem << ": its routes answer 503";
  } else if (now != before && before == BoardState::Unreadable) {
    LOG_NOTICE << "status board readable again";
  }
  return status;
}

void Dispatcher::addCommonHeaders(Response& res) const {
  res.addHeader("X-DualSP-SP", std::string(1, spLetter(config_.sp)));
  res.addHeader("OData-Version", "4.0");
  // An event stream sets its own (text/event-stream, no-cache).
  if (!res.header("Cache-Control")) res.addHeader("Cache-Control", "no-store");
  if (!res.body.is_null() && !res.header("Content-Type"))
    res.addHeader("Content-Type", "application/json; charset=utf-8");
}

}  // namespace dualsp::web
