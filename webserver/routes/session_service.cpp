// /redfish/v1/SessionService: logins (DSP0266 "Session management"). POST to Sessions needs
// no credentials and answers 201 with X-Auth-Token and Location; the token is spd's, shown
// once, and only its hash is stored (sp/account_service.hpp), replicated so a session goes on
// working through the floating address after a failover. DELETE logs out. Both modes serve
// them: the degraded rescue subset is for logged-in users too.

#include <ctime>

#include "platform/log.hpp"
#include "webserver/account_access.hpp"
#include "webserver/auth.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_body.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kSessionServiceType = "#SessionService.v1_1_9.SessionService";
constexpr std::string_view kSessionCollectionType = "#SessionCollection.SessionCollection";
constexpr std::string_view kSessionType = "#Session.v1_7_2.Session";

std::string sessionPath(std::string_view id) {
  return std::string(kSessionsPath) + "/" + std::string(id);
}

std::string isoTime(int64_t ms) {
  std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Json sessionBody(const Json& s) {
  const std::string id = s.value("Id", std::string());
  Json body = {
      {"@odata.id", sessionPath(id)},
      {"@odata.type", kSessionType},
      {"Id", id},
      {"Name", "User Session"},
      {"UserName", s.value("UserName", std::string())},
      {"Password", nullptr},
      {"SessionType", "Redfish"},
      {"ClientOriginIPAddress", s.value("Origin", std::string())},
  };
  if (s.contains("CreatedMs")) body["CreatedTime"] = isoTime(s.value("CreatedMs", int64_t{0}));
  return body;
}

void handleSessionServiceGet(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  res.body = {
      {"@odata.id", kSessionServicePath},
      {"@odata.type", kSessionServiceType},
      {"Id", "SessionService"},
      {"Name", "Session Service"},
      {"ServiceEnabled", true},
      {"SessionTimeout", (*state)["policy"].value("SessionTimeout", 1800)},
      {"Sessions", odataLink(std::string(kSessionsPath))},
  };
}

// SessionTimeout: 30..86400 s (SessionService_v1.xml).
void handleSessionServicePatch(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  for (const auto& [key, value] : body->items()) {
    if (key != "SessionTimeout") {
      messages::propertyUnknown(res, key);
      return;
    }
    if (!value.is_number_integer()) {
      messages::propertyValueTypeError(res, valueText(value), key);
      return;
    }
    if (value.get<int64_t>() < 30 || value.get<int64_t>() > 86400) {
      messages::propertyValueOutOfRange(res, valueText(value), key);
      return;
    }
  }
  if (body->empty()) {
    messages::malformedJson(res);
    return;
  }
  if (!writeAccount(ctx, "policy", "", *body, res, "SessionService", "SessionService")) return;
  answerChanged(ctx, res, handleSessionServiceGet);
}

void handleSessionCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  Json members = Json::array();
  for (const Json& s : (*state)["sessions"])
    members.push_back(odataLink(sessionPath(s.value("Id", std::string()))));
  res.body = {
      {"@odata.id", kSessionsPath},    {"@odata.type", kSessionCollectionType},
      {"Name", "Session Collection"},  {"Members@odata.count", members.size()},
      {"Members", std::move(members)},
  };
}

// The login: {"UserName", "Password"}. A wrong name and a wrong password answer alike.
void handleSessionCollectionPost(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  for (const auto& [key, value] : body->items()) {
    if (key != "UserName" && key != "Password") {
      messages::propertyUnknown(res, key);
      return;
    }
    if (!value.is_string()) {
      messages::propertyValueTypeError(res, key == "Password" ? "" : valueText(value), key);
      return;
    }
  }
  for (std::string_view required : {"UserName", "Password"}) {
    if (!body->contains(required)) {
      messages::propertyMissing(res, required);
      return;
    }
  }
  proto::Command command = makeCommand(ctx, kCreateSession, ctx.config.sp);
  auto& args = *command.mutable_args();
  args["user"] = (*body)["UserName"].get<std::string>();
  args["password"] = (*body)["Password"].get<std::string>();
  args["source"] = ctx.request.remote_address;
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (!commandSucceeded(result, res, "Session", "Sessions")) return;
  Json session = Json::parse(result->payload(), nullptr, false);
  if (!session.is_object() || !session.contains("token") || !session.contains("id")) {
    LOG_ERROR << kCreateSession << " answered an unreadable payload";
    messages::internalError(res);
    return;
  }
  const std::string id = session["id"].get<std::string>();
  res.status = 201;
  res.addHeader("X-Auth-Token", session["token"].get<std::string>());
  res.addHeader("Location", sessionPath(id));
  res.body = sessionBody({{"Id", id},
                          {"UserName", session.value("user", std::string())},
                          {"Origin", ctx.request.remote_address},
                          {"CreatedMs", ctx.now_ms}});
}

// A session is its owner's, or any administrator's (ConfigureManager) to read and close.
const Json* ownSession(const RequestContext& ctx, const Json& state, Response& res) {
  const std::string& id = ctx.params.at(0);
  for (const Json& s : state["sessions"]) {
    if (s.value("Id", std::string()) != id) continue;
    if (!callerMay(ctx, Privilege::ConfigureManager, s.value("UserName", std::string()))) {
      messages::insufficientPrivilege(res);
      return nullptr;
    }
    return &s;
  }
  messages::resourceNotFound(res, "Session", id);
  return nullptr;
}

void handleSessionGet(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  const Json* s = ownSession(ctx, *state, res);
  if (!s) return;
  res.body = sessionBody(*s);
}

void handleSessionDelete(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  if (!ownSession(ctx, *state, res)) return;
  proto::Command command = makeCommand(ctx, kDeleteSession, ctx.config.sp);
  (*command.mutable_args())["id"] = ctx.params.at(0);
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (!commandSucceeded(result, res, "Session", ctx.params.at(0))) return;
  res.status = 204;
  res.body = nullptr;
}

}  // namespace

void requestRoutesSessionService(RouteTable& routes) {
  const std::string service(kSessionServicePath);
  const std::string sessions(kSessionsPath);
  routes.add({.pattern = service,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSessionServiceGet});
  routes.add({.pattern = service,
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureManager,
              .source = DataSource::LocalBus,
              .handler = handleSessionServicePatch});
  routes.add({.pattern = sessions,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSessionCollectionGet});
  routes.add({.pattern = sessions,
              .methods = {HttpMethod::Post},
              .privilege = Privilege::NoAuth,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSessionCollectionPost});
  routes.add({.pattern = sessions + "/{SessionId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::ConfigureSelf,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSessionGet,
              .before_password_change = true});
  routes.add({.pattern = sessions + "/{SessionId}",
              .methods = {HttpMethod::Delete},
              .privilege = Privilege::ConfigureSelf,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSessionDelete,
              .before_password_change = true});
}

}  // namespace dualsp::web
