// CertificateService, CertificateLocations and each Manager's NetworkProtocol/HTTPS
// certificate through the Dispatcher: what they show of spd's certificate (never a key),
// ReplaceCertificate's parameter checks before spd, and spd's refusal passed on.

#include <CppUTest/TestHarness.h>

#include <regex>

#include "platform/tls_certificate.hpp"
#include "test_dispatcher.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kReplace =
    "/redfish/v1/CertificateService/Actions/CertificateService.ReplaceCertificate";
const char* const kCertA = "/redfish/v1/Managers/SPA/NetworkProtocol/HTTPS/Certificates/1";
const char* const kCertB = "/redfish/v1/Managers/SPB/NetworkProtocol/HTTPS/Certificates/1";

platform::CertificateAndKey made(const std::string& cn) {
  std::string error;
  auto m = platform::makeSelfSigned({.common_name = cn, .ip_addresses = {}, .days = 30}, error);
  CHECK_TEXT(m.has_value(), error.c_str());
  return *m;
}

proto::CommandResult certificateAnswer(const std::string& pem) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_payload(pem);
  return r;
}

Json replaceBody(const std::string& pem, const char* uri = kCertB) {
  return {{"CertificateString", pem},
          {"CertificateType", "PEM"},
          {"CertificateUri", {{"@odata.id", uri}}}};
}

}  // namespace

TEST_GROUP(CertificateRoutes){};

TEST(CertificateRoutes, ServiceLocationsAndNetworkProtocolLinkTheCertificate) {
  Served a(SpId::A, Role::Active);
  Response root = a.get("/redfish/v1");
  STRCMP_EQUAL("/redfish/v1/CertificateService",
               str(root.body["CertificateService"]["@odata.id"]).c_str());
  Response service = a.get("/redfish/v1/CertificateService");
  LONGS_EQUAL(200, service.status);
  STRCMP_EQUAL(
      kReplace,
      str(service.body["Actions"]["#CertificateService.ReplaceCertificate"]["target"]).c_str());
  Response locations = a.get("/redfish/v1/CertificateService/CertificateLocations");
  LONGS_EQUAL(2, locations.body["Links"]["Certificates"].size());
  STRCMP_EQUAL(kCertB, str(locations.body["Links"]["Certificates"][1]["@odata.id"]).c_str());
  Response manager = a.get("/redfish/v1/Managers/SPB/NetworkProtocol");
  LONGS_EQUAL(200, manager.status);
  STRCMP_EQUAL("/redfish/v1/Managers/SPB/NetworkProtocol/HTTPS/Certificates",
               str(manager.body["HTTPS"]["Certificates"]["@odata.id"]).c_str());
  // The protocols DualSP does not run are shown off.
  CHECK(manager.body["NTP"] == Json::parse(R"({"ProtocolEnabled": false, "Port": null,
        "NTPServers": []})"));
  CHECK(manager.body["SSDP"] == Json::parse(R"({"ProtocolEnabled": false, "Port": null,
        "NotifyMulticastIntervalSeconds": null, "NotifyTTL": null})"));
  CHECK(manager.body["Proxy"] == Json::parse(R"({"Enabled": false})"));
  checkError(a.get("/redfish/v1/Managers/SPC/NetworkProtocol"), 404,
             "Base.1.22.1.ResourceNotFound");
  Response collection = a.get("/redfish/v1/Managers/SPA/NetworkProtocol/HTTPS/Certificates");
  STRCMP_EQUAL(kCertA, str(collection.body["Members"][0]["@odata.id"]).c_str());
}

TEST(CertificateRoutes, TheCertificateIsSpdsAndTheSameForBothManagers) {
  Served a(SpId::A, Role::Active);
  const auto cert = made("dualsp-array");
  a.bus.answerFor("GetHttpsCertificate", proto::SP_UNKNOWN, certificateAnswer(cert.certificate));
  Response on_a = a.get(kCertA);
  LONGS_EQUAL(200, on_a.status);
  Response on_b = a.get(kCertB);
  STRCMP_EQUAL(str(on_a.body["Fingerprint"]).c_str(), str(on_b.body["Fingerprint"]).c_str());
  STRCMP_EQUAL("dualsp-array", str(on_a.body["Subject"]["CommonName"]).c_str());
  STRCMP_EQUAL("TPM_ALG_SHA256", str(on_a.body["FingerprintHashAlgorithm"]).c_str());
  // Certificate_v1.xml's patterns (DMTF's Service Validator checks them).
  const std::regex bytes("^([0-9A-Fa-f]{2}:){0,}([0-9A-Fa-f]{2})$");
  CHECK_TEXT(std::regex_match(str(on_a.body["SerialNumber"]), bytes),
             str(on_a.body["SerialNumber"]).c_str());
  CHECK(std::regex_match(str(on_a.body["Fingerprint"]), bytes));
  STRCMP_EQUAL(cert.certificate.c_str(), str(on_a.body["CertificateString"]).c_str());
  CHECK(on_a.serializedBody().find("PRIVATE") == std::string::npos);
  checkError(a.get("/redfish/v1/Managers/SPA/NetworkProtocol/HTTPS/Certificates/2"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(CertificateRoutes, ReplaceChecksItsParametersBeforeSpd) {
  Served a(SpId::A, Role::Active);
  const auto cert = made("array.example.com");
  const std::string pem = cert.certificate + cert.key;
  struct Case {
    Json body;
    const char* message_id;
  };
  Json unknown = replaceBody(pem);
  unknown["Password"] = "x";
  Json no_type = replaceBody(pem);
  no_type.erase("CertificateType");
  Json der = replaceBody(pem);
  der["CertificateType"] = "PKCS7";
  Json number = replaceBody(pem);
  number["CertificateString"] = 7;
  const Case cases[] = {
      {unknown, "Base.1.22.1.ActionParameterNotSupported"},
      {no_type, "Base.1.22.1.ActionParameterMissing"},
      {der, "Base.1.22.1.ActionParameterValueNotInList"},
      {number, "Base.1.22.1.ActionParameterValueTypeError"},
      {replaceBody(pem, "/redfish/v1/Managers/SPA"), "Base.1.22.1.ActionParameterValueError"},
  };
  for (const Case& c : cases) checkError(a.post(kReplace, c.body.dump()), 400, c.message_id);
  checkError(a.post(kReplace, "{nope"), 400, "Base.1.22.1.MalformedJSON");
  LONGS_EQUAL(0, a.bus.commandsNamed("ReplaceHttpsCertificate").size());
}

TEST(CertificateRoutes, ReplacePassesThePemToSpdAndItsRefusalBack) {
  Served a(SpId::A, Role::Active);
  const auto cert = made("array.example.com");
  proto::CommandResult refused;
  refused.set_status(proto::CommandResult::BAD_REQUEST);
  refused.set_error("the private key does not belong to the certificate");
  a.bus.answerFor("ReplaceHttpsCertificate", proto::SP_UNKNOWN, refused);
  Response res = a.post(kReplace, replaceBody(cert.certificate + cert.key).dump());
  checkError(res, 400, "Base.1.22.1.ActionParameterValueError");
  STRCMP_CONTAINS("does not belong", str(res.body["error"]["message"]).c_str());
  proto::Command sent = a.bus.commandsNamed("ReplaceHttpsCertificate").back();
  STRCMP_EQUAL((cert.certificate + cert.key).c_str(), sent.payload().c_str());

  a.bus.answerFor("ReplaceHttpsCertificate", proto::SP_UNKNOWN,
                  certificateAnswer(cert.certificate));
  res = a.post(kReplace, replaceBody(cert.certificate + cert.key).dump());
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("array.example.com", str(res.body["Subject"]["CommonName"]).c_str());
  STRCMP_EQUAL(kCertB, str(res.body["@odata.id"]).c_str());
}
