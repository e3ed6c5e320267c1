#include "webserver/account_access.hpp"

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web {

std::optional<Json> readAccountState(const RequestContext& ctx, Response& res) {
  proto::Command command = makeCommand(ctx, kGetAccounts, ctx.config.sp);
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, "AccountService", "AccountService")) return std::nullopt;
  Json state = Json::parse(result->payload(), nullptr, false);
  if (!state.is_object() || !state.contains("accounts") || !state.contains("sessions")) {
    LOG_ERROR << kGetAccounts << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  return state;
}

std::optional<Json> writeAccount(const RequestContext& ctx, std::string_view op,
                                 const std::string& user, const Json& body, Response& res,
                                 std::string_view resource_type, std::string_view resource_id) {
  // About this SP: the password is hashed here; only the hash travels to the peer.
  proto::Command command = makeCommand(ctx, kAccountWrite, ctx.config.sp);
  auto& args = *command.mutable_args();
  args["op"] = std::string(op);
  args["user"] = user;
  args["body"] = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (!commandSucceeded(result, res, resource_type, resource_id)) return std::nullopt;
  Json out = Json::parse(result->payload(), nullptr, false);
  if (out.is_discarded()) {
    LOG_ERROR << kAccountWrite << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  return out;
}

const Json* findAccount(const Json& state, std::string_view user) {
  for (const Json& a : state["accounts"])
    if (a.is_object() && a.value("UserName", std::string()) == user) return &a;
  return nullptr;
}

}  // namespace dualsp::web
