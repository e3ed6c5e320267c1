// The array's HTTPS certificate (docs/SECURITY.md "TLS"): /redfish/v1/CertificateService with
// ReplaceCertificate and CertificateLocations, and each Manager's NetworkProtocol with
// HTTPS/Certificates/1, as bmcweb places it. Both SPs serve one certificate, kept by spd in
// the replicated store (sp/https_certificate.hpp), so both Managers show the same one.
// spweb never sees the key: GetHttpsCertificate answers the certificates alone, and
// ReplaceHttpsCertificate takes the administrator's PEM to spd, which checks it.

#include "platform/log.hpp"
#include "platform/tls_certificate.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_body.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kCertificateServicePath = "/redfish/v1/CertificateService";
constexpr std::string_view kLocationsPath = "/redfish/v1/CertificateService/CertificateLocations";
constexpr std::string_view kReplaceAction = "CertificateService.ReplaceCertificate";
constexpr std::string_view kCertificateServiceType =
    "#CertificateService.v1_2_1.CertificateService";
constexpr std::string_view kLocationsType = "#CertificateLocations.v1_0_4.CertificateLocations";
constexpr std::string_view kNetworkProtocolType =
    "#ManagerNetworkProtocol.v1_12_0.ManagerNetworkProtocol";
constexpr std::string_view kCertificateCollectionType =
    "#CertificateCollection.CertificateCollection";
constexpr std::string_view kCertificateType = "#Certificate.v1_11_0.Certificate";

std::string networkProtocolPath(SpId sp) {
  return managerPath(sp) + "/NetworkProtocol";
}
std::string certificatesPath(SpId sp) {
  return networkProtocolPath(sp) + "/HTTPS/Certificates";
}
std::string certificatePath(SpId sp) {
  return certificatesPath(sp) + "/1";
}

// The Manager of the first path parameter, or nullopt with 404 set.
std::optional<SpId> managerOf(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = spOfManagerId(ctx.params.at(0));
  if (!sp) messages::resourceNotFound(res, "Manager", ctx.params.at(0));
  return sp;
}

Json certificateBody(SpId sp, const std::string& pem, Response& res) {
  std::string error;
  std::optional<platform::CertificateInfo> info = platform::inspectCertificate(pem, error);
  if (!info) {
    LOG_ERROR << "spd's HTTPS certificate cannot be read: " << error;
    messages::internalError(res);
    return nullptr;
  }
  Json body = {
      {"@odata.id", certificatePath(sp)},
      {"@odata.type", kCertificateType},
      {"Id", "1"},
      {"Name", "HTTPS Certificate"},
      {"CertificateString", info->certificate},
      {"CertificateType", "PEM"},
      {"Issuer", {{"CommonName", info->issuer_common_name}}},
      {"Subject", {{"CommonName", info->common_name}}},
      {"ValidNotBefore", info->not_before},
      {"ValidNotAfter", info->not_after},
      {"SerialNumber", info->serial},
      {"Fingerprint", info->fingerprint},
      {"FingerprintHashAlgorithm", "TPM_ALG_SHA256"},
      {"KeyUsage", Json::array({"DigitalSignature", "ServerAuthentication"})},
  };
  return body;
}

void handleCertificateServiceGet(const RequestContext&, Response& res) {
  res.body = {
      {"@odata.id", kCertificateServicePath},
      {"@odata.type", kCertificateServiceType},
      {"Id", "CertificateService"},
      {"Name", "Certificate Service"},
      {"Actions",
       {{"#" + std::string(kReplaceAction),
         {{"target",
           std::string(kCertificateServicePath) + "/Actions/" + std::string(kReplaceAction)},
          {"CertificateType@Redfish.AllowableValues", Json::array({"PEM"})}}}}},
      {"CertificateLocations", odataLink(std::string(kLocationsPath))},
  };
}

void handleLocationsGet(const RequestContext&, Response& res) {
  Json links =
      Json::array({odataLink(certificatePath(SpId::A)), odataLink(certificatePath(SpId::B))});
  res.body = {
      {"@odata.id", kLocationsPath},
      {"@odata.type", kLocationsType},
      {"Id", "CertificateLocations"},
      {"Name", "Certificate Locations"},
      {"Links", {{"Certificates", links}, {"Certificates@odata.count", links.size()}}},
  };
}

void handleNetworkProtocolGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  const ServiceConfig& c = ctx.config;
  Json https = {{"ProtocolEnabled", c.https_port >= 0}};
  if (c.https_port >= 0) https["Port"] = c.https_port;
  https["Certificates"] = odataLink(certificatesPath(*sp));
  res.body = {
      {"@odata.id", networkProtocolPath(*sp)},
      {"@odata.type", kNetworkProtocolType},
      {"Id", "NetworkProtocol"},
      {"Name", "Manager Network Protocol"},
      {"Description", c.redirect_plain ? "HTTP answers with a redirect to HTTPS"
                                       : "HTTP and HTTPS serve the same API"},
      {"HTTP", {{"ProtocolEnabled", true}, {"Port", c.http_port}}},
      {"HTTPS", https},
      // Neither SP runs an NTP client, an SSDP announcer or goes through a proxy: each is
      // shown off, with nothing configured.
      {"NTP", {{"ProtocolEnabled", false}, {"Port", nullptr}, {"NTPServers", Json::array()}}},
      {"SSDP",
       {{"ProtocolEnabled", false},
        {"Port", nullptr},
        {"NotifyMulticastIntervalSeconds", nullptr},
        {"NotifyTTL", nullptr}}},
      {"Proxy", {{"Enabled", false}}},
  };
}

void handleCertificateCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  res.body = {
      {"@odata.id", certificatesPath(*sp)},
      {"@odata.type", kCertificateCollectionType},
      {"Name", "HTTPS Certificates"},
      {"Members", Json::array({odataLink(certificatePath(*sp))})},
      {"Members@odata.count", 1},
  };
}

void handleCertificateGet(const RequestContext& ctx, Response& res) {
  std::optional<SpId> sp = managerOf(ctx, res);
  if (!sp) return;
  if (ctx.params.at(1) != "1") {
    messages::resourceNotFound(res, "Certificate", ctx.params.at(1));
    return;
  }
  std::optional<proto::CommandResult> result =
      runCommand(ctx, makeArrayCommand(ctx, kGetHttpsCertificate));
  if (!commandSucceeded(result, res, "Certificate", "1")) return;
  Json body = certificateBody(*sp, result->payload(), res);
  if (!body.is_null()) res.body = std::move(body);
}

// {"CertificateString": PEM certificate and key, "CertificateType": "PEM",
//  "CertificateUri": {"@odata.id": one of the two Managers' certificate}}, all required.
void handleReplaceCertificate(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  for (const auto& [key, value] : body->items())
    if (key != "CertificateString" && key != "CertificateType" && key != "CertificateUri") {
      messages::actionParameterNotSupported(res, key, kReplaceAction);
      return;
    }
  for (const char* required : {"CertificateString", "CertificateType", "CertificateUri"})
    if (!body->contains(required)) {
      messages::actionParameterMissing(res, kReplaceAction, required);
      return;
    }
  const Json& pem = (*body)["CertificateString"];
  if (!pem.is_string()) {
    messages::actionParameterValueTypeError(res, valueText(pem), "CertificateString",
                                            kReplaceAction);
    return;
  }
  const Json& type = (*body)["CertificateType"];
  if (!type.is_string() || type.get<std::string>() != "PEM") {
    messages::actionParameterValueNotInList(res, valueText(type), "CertificateType",
                                            kReplaceAction);
    return;
  }
  const Json& uri = (*body)["CertificateUri"];
  const Json target = uri.is_object() ? uri.value("@odata.id", Json()) : Json();
  std::optional<SpId> sp;
  for (SpId s : {SpId::A, SpId::B})
    if (target.is_string() && target.get<std::string>() == certificatePath(s)) sp = s;
  if (!sp) {
    messages::actionParameterValueError(res, "CertificateUri", kReplaceAction);
    return;
  }
  proto::Command command = makeArrayCommand(ctx, kReplaceHttpsCertificate);
  command.set_payload(pem.get<std::string>());
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (result && result->status() == proto::CommandResult::BAD_REQUEST) {
    // What spd found wrong with it: no key, a key of another certificate, expired...
    messages::actionParameterValueError(res, "CertificateString", kReplaceAction);
    res.body["error"]["message"] =
        res.body["error"]["message"].get<std::string>() + " " + result->error();
    return;
  }
  if (!commandSucceeded(result, res, "Certificate", "1")) return;
  Json answer = certificateBody(*sp, result->payload(), res);
  if (!answer.is_null()) res.body = std::move(answer);
}

}  // namespace

void requestRoutesCertificateService(RouteTable& routes) {
  const std::string service(kCertificateServicePath);
  routes.add({.pattern = service,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .source = DataSource::None,
              .handler = handleCertificateServiceGet});
  routes.add({.pattern = std::string(kLocationsPath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .source = DataSource::None,
              .handler = handleLocationsGet});
  routes.add({.pattern = service + "/Actions/" + std::string(kReplaceAction),
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .source = DataSource::LocalBus,
              .handler = handleReplaceCertificate});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/NetworkProtocol",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .source = DataSource::None,
              .handler = handleNetworkProtocolGet});
  routes.add({.pattern = "/redfish/v1/Managers/{ManagerId}/NetworkProtocol/HTTPS/Certificates",
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .source = DataSource::None,
              .handler = handleCertificateCollectionGet});
  routes.add(
      {.pattern = "/redfish/v1/Managers/{ManagerId}/NetworkProtocol/HTTPS/Certificates/{CertId}",
       .methods = {HttpMethod::Get, HttpMethod::Head},
       .privilege = Privilege::Login,
       .source = DataSource::LocalBus,
       .handler = handleCertificateGet});
}

}  // namespace dualsp::web
