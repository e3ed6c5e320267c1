#pragma once
// The accounts, sessions and their policy as the routes use them: spd's account service
// (sp/account_service.hpp) over the local bus. spd keeps every password and token hash;
// what comes back here is what a client may see.

#include <optional>
#include <string>
#include <string_view>

#include "webserver/http_types.hpp"
#include "webserver/json.hpp"
#include "webserver/service_context.hpp"

namespace dualsp::web {

// What spd's account service takes (sp/account_service.hpp kMinPasswordLength, ...), for
// the error a client gets before the password travels.
inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 64;

inline constexpr std::string_view kGetAccounts = "GetAccounts";
inline constexpr std::string_view kAccountWrite = "AccountWrite";
inline constexpr std::string_view kCreateSession = "CreateSession";
inline constexpr std::string_view kDeleteSession = "DeleteSession";

// {"accounts": [{UserName, RoleId, Enabled, Locked, PasswordChangeRequired}],
//  "sessions": [{Id, UserName, CreatedMs, Origin}], "policy": {AccountLockout..., SessionTimeout}}
// or nullopt with the error set on `res`.
std::optional<Json> readAccountState(const RequestContext& ctx, Response& res);

// One AccountWrite (`op`: create, patch, delete, policy) of `user` with `body`; spd's answer
// (the account or policy as now stored) or nullopt with the error set on `res`.
std::optional<Json> writeAccount(const RequestContext& ctx, std::string_view op,
                                 const std::string& user, const Json& body, Response& res,
                                 std::string_view resource_type, std::string_view resource_id);

// The account's entry in `state`, or null.
const Json* findAccount(const Json& state, std::string_view user);

}  // namespace dualsp::web
