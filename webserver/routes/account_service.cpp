// /redfish/v1/AccountService: accounts and the predefined roles (docs/SECURITY.md "Accounts
// and sessions"). spd's account service keeps them (webserver/account_access.hpp); these
// routes check the request's form and render what spd answers. The route table's privilege
// is checked by the dispatcher; the handlers add only the owner rule of ConfigureSelf (an
// account may read itself and change its own password).

#include <array>

#include "webserver/account_access.hpp"
#include "webserver/auth.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_body.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kAccountServiceType = "#AccountService.v1_15_0.AccountService";
constexpr std::string_view kAccountCollectionType =
    "#ManagerAccountCollection.ManagerAccountCollection";
constexpr std::string_view kAccountType = "#ManagerAccount.v1_12_0.ManagerAccount";
constexpr std::string_view kRoleCollectionType = "#RoleCollection.RoleCollection";
constexpr std::string_view kRoleType = "#Role.v1_3_2.Role";
constexpr std::array<std::string_view, 3> kRoles = {"Administrator", "Operator", "ReadOnly"};

std::string accountPath(std::string_view user) {
  return std::string(kAccountsPath) + "/" + std::string(user);
}

std::string rolePath(std::string_view role) {
  return std::string(kRolesPath) + "/" + std::string(role);
}

Json accountBody(const Json& a) {
  const std::string user = a.value("UserName", std::string());
  const std::string role = a.value("RoleId", std::string());
  return {
      {"@odata.id", accountPath(user)},
      {"@odata.type", kAccountType},
      {"Id", user},
      {"Name", "User Account"},
      {"UserName", user},
      {"RoleId", role},
      {"Enabled", a.value("Enabled", true)},
      {"Locked", a.value("Locked", false)},
      {"PasswordChangeRequired", a.value("PasswordChangeRequired", false)},
      {"Password", nullptr},  // never shown (ManagerAccount: "shall be null in responses")
      {"AccountTypes", Json::array({"Redfish"})},
      {"Links", {{"Role", odataLink(rolePath(role))}}},
  };
}

// What a PATCH or POST of an account may set, checked for type; `allowed` the properties.
bool accountPropertiesValid(const Json& body, std::initializer_list<std::string_view> allowed,
                            Response& res) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      if (key == "Id" || key == "Locked" || key == "PasswordChangeRequired" || key == "UserName")
        messages::propertyNotWritable(res, key);
      else
        messages::propertyUnknown(res, key);
      return false;
    }
    bool is_bool = key == "Enabled" || key == "Locked";
    if (is_bool ? !value.is_boolean() : !value.is_string()) {
      // A password is never quoted back, whatever it is.
      messages::propertyValueTypeError(res, key == "Password" ? "" : valueText(value), key);
      return false;
    }
  }
  if (body.contains("Password")) {
    size_t n = body["Password"].get_ref<const std::string&>().size();
    if (n < kMinPasswordLength || n > kMaxPasswordLength) {
      messages::passwordIncorrectLength(res, kMinPasswordLength, kMaxPasswordLength);
      return false;
    }
  }
  if (body.contains("RoleId")) {
    const std::string& role = body["RoleId"].get_ref<const std::string&>();
    if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
      messages::propertyValueNotInList(res, valueText(body["RoleId"]), "RoleId");
      return false;
    }
  }
  if (body.contains("Locked") && body["Locked"].get<bool>()) {
    // Only the service locks an account; an administrator can unlock it.
    messages::propertyValueNotInList(res, "true", "Locked");
    return false;
  }
  return true;
}

void handleAccountServiceGet(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  const Json& p = (*state)["policy"];
  res.body = {
      {"@odata.id", kAccountServicePath},
      {"@odata.type", kAccountServiceType},
      {"Id", "AccountService"},
      {"Name", "Account Service"},
      {"ServiceEnabled", true},
      {"LocalAccountAuth", "Enabled"},
      {"MinPasswordLength", kMinPasswordLength},
      {"MaxPasswordLength", kMaxPasswordLength},
      {"AccountLockoutThreshold", p.value("AccountLockoutThreshold", 0)},
      {"AccountLockoutDuration", p.value("AccountLockoutDuration", 0)},
      {"AccountLockoutCounterResetAfter", p.value("AccountLockoutCounterResetAfter", 0)},
      {"Accounts", odataLink(std::string(kAccountsPath))},
      {"Roles", odataLink(std::string(kRolesPath))},
  };
}

// The lockout policy (AccountLockout*): integers, ranges checked by spd too.
void handleAccountServicePatch(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  struct Limit {
    std::string_view name;
    int min, max;
  };
  constexpr Limit kLimits[] = {{"AccountLockoutThreshold", 0, 1000},
                               {"AccountLockoutDuration", 1, 86400},
                               {"AccountLockoutCounterResetAfter", 1, 86400}};
  for (const auto& [key, value] : body->items()) {
    const Limit* limit = nullptr;
    for (const Limit& l : kLimits)
      if (l.name == key) limit = &l;
    if (!limit) {
      messages::propertyUnknown(res, key);
      return;
    }
    if (!value.is_number_integer()) {
      messages::propertyValueTypeError(res, valueText(value), key);
      return;
    }
    if (value.get<int64_t>() < limit->min || value.get<int64_t>() > limit->max) {
      messages::propertyValueOutOfRange(res, valueText(value), key);
      return;
    }
  }
  if (body->empty()) {
    messages::malformedJson(res);
    return;
  }
  if (!writeAccount(ctx, "policy", "", *body, res, "AccountService", "AccountService")) return;
  answerChanged(ctx, res, handleAccountServiceGet);
}

void handleAccountCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  Json members = Json::array();
  for (const Json& a : (*state)["accounts"])
    members.push_back(odataLink(accountPath(a.value("UserName", std::string()))));
  res.body = {
      {"@odata.id", kAccountsPath},    {"@odata.type", kAccountCollectionType},
      {"Name", "Accounts Collection"}, {"Members@odata.count", members.size()},
      {"Members", std::move(members)},
  };
}

void handleAccountCollectionPost(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  for (std::string_view required : {"UserName", "Password", "RoleId"}) {
    if (!body->contains(required)) {
      messages::propertyMissing(res, required);
      return;
    }
  }
  Json fields = *body;
  const Json user_name = fields["UserName"];
  fields.erase("UserName");
  if (!user_name.is_string()) {
    messages::propertyValueTypeError(res, valueText(user_name), "UserName");
    return;
  }
  if (!accountPropertiesValid(fields, {"Password", "RoleId", "Enabled"}, res)) return;
  const std::string user = user_name.get<std::string>();
  std::optional<Json> account =
      writeAccount(ctx, "create", user, fields, res, "ManagerAccount", user);
  if (!account) return;
  res.status = 201;
  res.addHeader("Location", accountPath(user));
  res.body = accountBody(*account);
}

void handleAccountGet(const RequestContext& ctx, Response& res) {
  const std::string& user = ctx.params.at(0);
  if (!callerMay(ctx, Privilege::ConfigureUsers, user)) {
    messages::insufficientPrivilege(res);
    return;
  }
  std::optional<Json> state = readAccountState(ctx, res);
  if (!state) return;
  const Json* a = findAccount(*state, user);
  if (!a) {
    messages::resourceNotFound(res, "ManagerAccount", user);
    return;
  }
  res.body = accountBody(*a);
}

// An administrator changes anything but the name; an account itself only its password.
void handleAccountPatch(const RequestContext& ctx, Response& res) {
  const std::string& user = ctx.params.at(0);
  if (!callerMay(ctx, Privilege::ConfigureUsers, user)) {
    messages::insufficientPrivilege(res);
    return;
  }
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  const bool admin = roleHas(ctx.caller->role, Privilege::ConfigureUsers);
  // Its role, state and lock are an administrator's to change, not the account's own.
  for (std::string_view property : {"RoleId", "Enabled", "Locked"}) {
    if (!admin && body->contains(property)) {
      messages::insufficientPrivilege(res);
      return;
    }
  }
  bool valid = admin
                   ? accountPropertiesValid(*body, {"Password", "RoleId", "Enabled", "Locked"}, res)
                   : accountPropertiesValid(*body, {"Password"}, res);
  if (!valid) return;
  if (body->empty()) {
    messages::malformedJson(res);
    return;
  }
  std::optional<Json> account =
      writeAccount(ctx, "patch", user, *body, res, "ManagerAccount", user);
  if (!account) return;
  res.body = accountBody(*account);
}

void handleAccountDelete(const RequestContext& ctx, Response& res) {
  const std::string& user = ctx.params.at(0);
  if (!writeAccount(ctx, "delete", user, Json::object(), res, "ManagerAccount", user)) return;
  res.status = 204;
  res.body = nullptr;
}

void handleRoleCollectionGet(const RequestContext&, Response& res) {
  Json members = Json::array();
  for (std::string_view role : kRoles) members.push_back(odataLink(rolePath(role)));
  res.body = {
      {"@odata.id", kRolesPath},       {"@odata.type", kRoleCollectionType},
      {"Name", "Roles Collection"},    {"Members@odata.count", members.size()},
      {"Members", std::move(members)},
  };
}

void handleRoleGet(const RequestContext& ctx, Response& res) {
  const std::string& role = ctx.params.at(0);
  if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
    messages::resourceNotFound(res, "Role", role);
    return;
  }
  res.body = {
      {"@odata.id", rolePath(role)},
      {"@odata.type", kRoleType},
      {"Id", role},
      {"Name", role + " Role"},
      {"RoleId", role},
      {"IsPredefined", true},
      {"AssignedPrivileges", rolePrivileges(role)},
      {"OemPrivileges", Json::array()},
  };
}

}  // namespace

void requestRoutesAccountService(RouteTable& routes) {
  const std::string service(kAccountServicePath);
  const std::string accounts(kAccountsPath);
  const std::string roles(kRolesPath);
  routes.add({.pattern = service,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleAccountServiceGet});
  routes.add({.pattern = service,
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureUsers,
              .source = DataSource::LocalBus,
              .handler = handleAccountServicePatch});
  routes.add({.pattern = accounts,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleAccountCollectionGet});
  routes.add({.pattern = accounts,
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureUsers,
              .source = DataSource::LocalBus,
              .handler = handleAccountCollectionPost});
  // ConfigureSelf: every role has it; the handlers let only the owner or an administrator on.
  routes.add({.pattern = accounts + "/{AccountId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::ConfigureSelf,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleAccountGet,
              .before_password_change = true});
  routes.add({.pattern = accounts + "/{AccountId}",
              .methods = {HttpMethod::Patch},
              .privilege = Privilege::ConfigureSelf,
              .source = DataSource::LocalBus,
              .handler = handleAccountPatch,
              .before_password_change = true});
  routes.add({.pattern = accounts + "/{AccountId}",
              .methods = {HttpMethod::Delete},
              .privilege = Privilege::ConfigureUsers,
              .source = DataSource::LocalBus,
              .handler = handleAccountDelete});
  routes.add({.pattern = roles,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleRoleCollectionGet});
  routes.add({.pattern = roles + "/{RoleId}",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleRoleGet});
}

}  // namespace dualsp::web
