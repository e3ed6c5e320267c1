#pragma once
// Who sent a request, and what their role may do (docs/SECURITY.md "Accounts and sessions").
// spweb holds no password or token: it hands the request's credentials to spd
// (Authenticate, sp/account_service.hpp) and gets the account back. The dispatcher checks
// the route table's privilege against the role in one place, for every route in both modes.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/local_bus.hpp"
#include "platform/sp_types.hpp"
#include "webserver/http_types.hpp"
#include "webserver/route_table.hpp"

namespace dualsp::web {

// The Redfish predefined roles' privileges (Redfish_1.8.0_PrivilegeRegistry.json): not
// modifiable. NoAuth is everybody's.
bool roleHas(std::string_view role, Privilege privilege);
// "Login", "ConfigureSelf", ... of the role, in registry order.
std::vector<std::string> rolePrivileges(std::string_view role);
// The caller may act on what `owner` owns (their account, their session): they hold
// `privilege` (an administrator's ConfigureUsers, ConfigureManager), or they are the owner.
bool callerMay(const RequestContext& ctx, Privilege privilege, std::string_view owner);

// A client address that failed too many logins waits out the rest of spd's minute.
inline constexpr int kRetryAfterLoginFailuresSeconds = 60;

enum class AuthStatus {
  Ok,
  NoCredentials,    // neither X-Auth-Token nor Authorization: 401
  Rejected,         // bad or expired credentials: 401
  TooManyFailures,  // the client's address failed too often: 429
  Unavailable,      // spd did not answer: 503
};

struct AuthOutcome {
  AuthStatus status = AuthStatus::NoCredentials;
  Identity identity;
};

using Authenticator = std::function<AuthOutcome(const Request&)>;

// Asks spd (the Authenticate command about this SP: never forwarded to the peer).
Authenticator busAuthenticator(ipc::CommandClient& bus, SpId sp);

}  // namespace dualsp::web
