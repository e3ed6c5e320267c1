#include "webserver/auth.hpp"

#include <chrono>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "webserver/json.hpp"

namespace dualsp::web {
namespace {

// Argon2id takes ~100 ms and logins queue behind each other in spd: allow a few.
constexpr std::chrono::milliseconds kAuthTimeout{3000};

struct RolePrivileges {
  std::string_view role;
  std::initializer_list<Privilege> privileges;
};

constexpr Privilege kAll[] = {Privilege::Login, Privilege::ConfigureManager,
                              Privilege::ConfigureUsers, Privilege::ConfigureComponents,
                              Privilege::ConfigureSelf};

bool grants(std::string_view role, Privilege p) {
  if (p == Privilege::NoAuth) return true;
  if (role == "Administrator") return true;
  if (role == "Operator")
    return p == Privilege::Login || p == Privilege::ConfigureComponents ||
           p == Privilege::ConfigureSelf;
  if (role == "ReadOnly") return p == Privilege::Login || p == Privilege::ConfigureSelf;
  return false;
}

}  // namespace

bool roleHas(std::string_view role, Privilege privilege) {
  return grants(role, privilege);
}

std::vector<std::string> rolePrivileges(std::string_view role) {
  std::vector<std::string> out;
  for (Privilege p : kAll)
    if (grants(role, p)) out.emplace_back(privilegeName(p));
  return out;
}

bool callerMay(const RequestContext& ctx, Privilege privilege, std::string_view owner) {
  if (!ctx.caller) return false;
  return roleHas(ctx.caller->role, privilege) || ctx.caller->user == owner;
}

Authenticator busAuthenticator(ipc::CommandClient& bus, SpId sp) {
  return [&bus, sp](const Request& request) {
    AuthOutcome out;
    std::optional<std::string> token = request.header("X-Auth-Token");
    std::optional<std::string> basic = request.header("Authorization");
    if ((!token || token->empty()) && (!basic || basic->empty())) return out;
    proto::Command command;
    command.set_name("Authenticate");
    command.set_target(ipc::toProto(sp));
    command.mutable_caller()->set_origin("web " + request.remote_address);
    auto& args = *command.mutable_args();
    args["source"] = request.remote_address;
    if (token && !token->empty())
      args["token"] = *token;
    else
      args["authorization"] = *basic;
    command.set_deadline_ms(static_cast<uint32_t>(kAuthTimeout.count()));
    std::optional<proto::CommandResult> result = bus.call(command, kAuthTimeout);
    if (!result || result->status() == proto::CommandResult::UNANSWERED) {
      out.status = AuthStatus::Unavailable;  // spd not answering is logged by the bus client
      return out;
    }
    switch (result->status()) {
      case proto::CommandResult::OK:
        break;
      case proto::CommandResult::UNAUTHORIZED:
        out.status = AuthStatus::Rejected;
        return out;
      case proto::CommandResult::TOO_MANY_REQUESTS:
        out.status = AuthStatus::TooManyFailures;
        return out;
      default:
        LOG_WARNING << "Authenticate answered "
                    << proto::CommandResult::Status_Name(result->status()) << ": "
                    << result->error();
        out.status = AuthStatus::Unavailable;
        return out;
    }
    Json id = Json::parse(result->payload(), nullptr, false);
    if (!id.is_object()) {
      LOG_ERROR << "Authenticate answered an unreadable identity";
      out.status = AuthStatus::Unavailable;
      return out;
    }
    out.status = AuthStatus::Ok;
    out.identity.user = id.value("user", std::string());
    out.identity.role = id.value("role", std::string());
    out.identity.session = id.value("session", std::string());
    out.identity.password_change_required = id.value("password_change_required", false);
    return out;
  };
}

}  // namespace dualsp::web
