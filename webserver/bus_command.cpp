#include "webserver/bus_command.hpp"

#include "platform/log.hpp"
#include "webserver/account_access.hpp"
#include "webserver/auth.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_read_cache.hpp"

namespace dualsp::web {

Role fromProto(proto::Role role) {
  switch (role) {
    case proto::ROLE_PASSIVE:
      return Role::Passive;
    case proto::ROLE_TAKING_OVER:
      return Role::TakingOver;
    case proto::ROLE_ACTIVE:
      return Role::Active;
    default:
      return Role::Starting;
  }
}

Health fromProto(proto::Health health) {
  switch (health) {
    case proto::HEALTH_OK:
      return Health::Ok;
    case proto::HEALTH_WARNING:
      return Health::Warning;
    default:
      return Health::Critical;  // an unknown health is not a healthy one
  }
}

Json spLetterOrNull(proto::SpId sp) {
  std::optional<SpId> known = fromProto(sp);
  return known ? Json(std::string(1, spLetter(*known))) : Json(nullptr);
}

Json freshnessOf(const proto::CommandResult& result) {
  return {
      {"Stale", result.stale()},
      {"AgeMs", result.age_ms()},
      {"AnsweredBy", spLetterOrNull(result.answered_by())},
      {"ServedBy", spLetterOrNull(result.served_by())},
  };
}

namespace {

// Who asks: the account (when the route needs one) and the client's address, for spd's
// checks of ownership and its audit events.
void setCaller(const RequestContext& ctx, proto::Command& command) {
  proto::Caller* caller = command.mutable_caller();
  caller->set_origin("web " + ctx.request.remote_address);
  if (ctx.caller) {
    caller->set_user(ctx.caller->user);
    caller->set_role(ctx.caller->role);
  }
}

}  // namespace

proto::Command makeCommand(const RequestContext& ctx, std::string_view name, SpId target) {
  proto::Command command;
  command.set_name(std::string(name));
  command.set_target(toProto(target));
  setCaller(ctx, command);
  return command;
}

proto::Command makeArrayCommand(const RequestContext& ctx, std::string_view name) {
  proto::Command command;
  command.set_name(std::string(name));
  command.set_target(proto::SP_UNKNOWN);
  setCaller(ctx, command);
  return command;
}

std::optional<proto::CommandResult> runCommand(const RequestContext& ctx,
                                               const proto::Command& command,
                                               std::chrono::milliseconds timeout) {
  std::optional<proto::CommandResult> result = ctx.bus.call(command, timeout);
  // A read that went unanswered changed nothing: as for spd not running, 503 and retry.
  if (result && result->status() == proto::CommandResult::UNANSWERED &&
      (ctx.request.method == HttpMethod::Get || ctx.request.method == HttpMethod::Head))
    return std::nullopt;
  return result;
}

JsonAnswer runJsonCommand(const RequestContext& ctx, const proto::Command& command,
                          std::chrono::milliseconds timeout) {
  JsonAnswer answer;
  if (ctx.reads) {
    RequestReadCache::JsonAnswer shared = ctx.reads->callForJson(command, timeout);
    answer.result = std::move(shared.result);
    answer.payload = std::move(shared.payload);
  } else {
    answer.result = ctx.bus.call(command, timeout);
    if (answer.result) {
      answer.payload =
          std::make_shared<const Json>(Json::parse(answer.result->payload(), nullptr, false));
      answer.result->clear_payload();
    }
  }
  if (answer.result && answer.result->status() == proto::CommandResult::UNANSWERED &&
      (ctx.request.method == HttpMethod::Get || ctx.request.method == HttpMethod::Head)) {
    answer.result.reset();
    answer.payload.reset();
  }
  return answer;
}

namespace {

bool mapResult(const std::optional<proto::CommandResult>& result, Response& res,
               std::string_view resource_type, std::string_view resource_id) {
  if (!result) {
    messages::serviceTemporarilyUnavailable(res, kRetryAfterNoAnswerSeconds);
    return false;
  }
  // spd named the Base message that fits better than the status alone.
  const std::string& key = result->message_key();
  if (key == "SessionLimitExceeded") {
    messages::sessionLimitExceeded(res);
    return false;
  }
  if (key == "ResourceAlreadyExists") {
    messages::resourceAlreadyExists(res, resource_type, "Id", resource_id);
    return false;
  }
  if (key == "PasswordIncorrectLength") {
    messages::passwordIncorrectLength(res, kMinPasswordLength, kMaxPasswordLength);
    return false;
  }
  switch (result->status()) {
    case proto::CommandResult::OK:
    case proto::CommandResult::ACCEPTED:
      return true;
    case proto::CommandResult::UNAUTHORIZED:
      messages::noValidSession(res);
      return false;
    case proto::CommandResult::TOO_MANY_REQUESTS:
      messages::tooManyFailedLogins(res, kRetryAfterLoginFailuresSeconds);
      return false;
    case proto::CommandResult::NOT_FOUND:
      messages::resourceNotFound(res, resource_type, resource_id);
      return false;
    case proto::CommandResult::BAD_REQUEST:
      messages::generalError(res);
      return false;
    case proto::CommandResult::UNAVAILABLE:
      // Nothing was done: the same request again later is safe.
      messages::serviceTemporarilyUnavailable(res, kRetryAfterNoAnswerSeconds);
      return false;
    case proto::CommandResult::TIMEOUT:
    case proto::CommandResult::UNANSWERED:
      // It may have been done: not a 503, whose promise is that nothing changed.
      messages::operationTimeout(res);
      return false;
    case proto::CommandResult::FORBIDDEN:
      messages::insufficientPrivilege(res);
      return false;
    case proto::CommandResult::INSUFFICIENT_STORAGE:
      LOG_WARNING << "spd could not store a change to " << resource_type << " " << resource_id
                  << ": " << result->error();
      messages::insufficientStorage(res);
      return false;
    default:
      LOG_ERROR << "command about " << resource_type << " " << resource_id
                << " failed in spd: " << result->error();
      messages::internalError(res);
      return false;
  }
}

}  // namespace

bool commandSucceeded(const std::optional<proto::CommandResult>& result, Response& res,
                      std::string_view resource_type, std::string_view resource_id) {
  if (mapResult(result, res, resource_type, resource_id)) return true;
  // spd's own words after the registry message: what the disk said, why the peer did not
  // take the change ("the change may have been applied: read it back").
  if (result && !result->error().empty() && res.body.is_object() && res.body.contains("error") &&
      res.body["error"].contains("message") && res.body["error"]["message"].is_string())
    res.body["error"]["message"] =
        res.body["error"]["message"].get<std::string>() + " " + result->error();
  return false;
}

}  // namespace dualsp::web
