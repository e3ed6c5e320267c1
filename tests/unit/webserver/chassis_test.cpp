// /redfish/v1/Chassis through the Dispatcher, with a fake local bus that answers per SP: the
// enclosure built from both SPs' GetSensors and GetInventory, a peer that does not answer,
// sensor and part ids that name the SP.

#include <CppUTest/TestHarness.h>

#include "test_dispatcher.hpp"

using namespace dualsp;
using namespace dualsp::web;
using namespace dualsp::web::test;

namespace {

const char* const kEnclosure = "/redfish/v1/Chassis/Enclosure";
const char* const kSensors = "/redfish/v1/Chassis/Enclosure/Sensors";

void addSensor(proto::CommandResult& r, const char* id, const char* name, const char* kind,
               double reading, const char* units, double upper_critical, proto::Health health) {
  proto::Sensor* s = r.mutable_sensors()->add_sensors();
  s->set_id(id);
  s->set_name(name);
  s->set_kind(kind);
  s->set_reading(reading);
  s->set_units(units);
  s->set_upper_critical(upper_critical);
  s->set_health(health);
}

// spd's GetSensors answer about SP `about`, as SP-A serves it.
proto::CommandResult sensorsResult(proto::SpId about, proto::Health fan_health = proto::HEALTH_OK) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(about);
  r.set_served_by(proto::SP_A);
  addSensor(r, "CPU0Temp", "CPU 0 temperature", "Temperature", 47.5, "Cel", 95, proto::HEALTH_OK);
  addSensor(r, "Fan0", "Fan 0", "Rotational", 7200, "RPM", 0, fan_health);
  addSensor(r, "Fan10", "Fan 10", "Rotational", 100, "RPM", 0, proto::HEALTH_CRITICAL);
  addSensor(r, "PSU0Power", "PSU 0 output power", "Power", 182.5, "W", 550, proto::HEALTH_OK);
  addSensor(r, "Board12V", "", "Voltage", 12.06, "V", 0, proto::HEALTH_OK);
  return r;
}

void addItem(proto::CommandResult& r, const char* id, const char* kind, const char* name) {
  proto::InventoryItem* i = r.mutable_inventory()->add_items();
  i->set_id(id);
  i->set_kind(kind);
  i->set_name(name);
  i->set_manufacturer("DualSP Sim");
  i->set_model("SIM-1");
  i->set_serial_number(std::string("SIM") + id);
  i->set_part_number("PN-1");
}

proto::CommandResult inventoryResult(proto::SpId about) {
  proto::CommandResult r;
  r.set_status(proto::CommandResult::OK);
  r.set_answered_by(about);
  r.set_served_by(proto::SP_A);
  addItem(r, "Board", "Board", "SP board");
  addItem(r, "Fan0", "Fan", "Fan 0");
  addItem(r, "Fan1", "Fan", "Fan 1");  // no sensor of its own ("Fan10" is another fan's)
  addItem(r, "PSU0", "PowerSupply", "PSU 0");
  return r;
}

// Both SPs answer: SP-A first hand, SP-B through the peer link.
void answerBoth(Served& s) {
  s.bus.answerFor("GetSensors", proto::SP_A, sensorsResult(proto::SP_A));
  s.bus.answerFor("GetSensors", proto::SP_B, sensorsResult(proto::SP_B));
  s.bus.answerFor("GetInventory", proto::SP_A, inventoryResult(proto::SP_A));
  s.bus.answerFor("GetInventory", proto::SP_B, inventoryResult(proto::SP_B));
}

std::vector<std::string> memberIds(const Json& collection) {
  std::vector<std::string> out;
  for (const Json& m : collection["Members"]) out.push_back(str(m["@odata.id"]));
  return out;
}

}  // namespace

TEST_GROUP(Chassis){};

TEST(Chassis, CollectionHasTheEnclosure) {
  Served a(SpId::A, Role::Active);
  Response res = a.get("/redfish/v1/Chassis");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  STRCMP_EQUAL("#ChassisCollection.ChassisCollection", str(res.body["@odata.type"]).c_str());
  LONGS_EQUAL(1, res.body["Members@odata.count"].get<int>());
  STRCMP_EQUAL(kEnclosure, str(res.body["Members"][0]["@odata.id"]).c_str());
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Chassis, EnclosureIsManagedByBothSps) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response res = a.get(kEnclosure);
  LONGS_EQUAL(200, res.status);
  const Json& b = res.body;
  STRCMP_EQUAL(kEnclosure, str(b["@odata.id"]).c_str());
  STRCMP_CONTAINS("#Chassis.v1_", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("Enclosure", str(b["Id"]).c_str());
  STRCMP_EQUAL("Enclosure", str(b["ChassisType"]).c_str());
  STRCMP_EQUAL("Enabled", str(b["Status"]["State"]).c_str());
  STRCMP_EQUAL("Critical", str(b["Status"]["Health"]).c_str());  // Fan10 is critical
  STRCMP_EQUAL(kSensors, str(b["Sensors"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/ThermalSubsystem",
               str(b["ThermalSubsystem"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/PowerSubsystem",
               str(b["PowerSubsystem"]["@odata.id"]).c_str());
  const Json managers = Json::parse(R"([{"@odata.id": "/redfish/v1/Managers/SPA"},
                                        {"@odata.id": "/redfish/v1/Managers/SPB"}])");
  CHECK(b["Links"]["ManagedBy"] == managers);
  CHECK(b["Links"]["ManagersInChassis"] == managers);
  // This SP first, then the peer.
  std::vector<proto::Command> sent = a.bus.commandsNamed("GetSensors");
  LONGS_EQUAL(2, sent.size());
  LONGS_EQUAL(3, a.bus.calls());  // and GetConfig of the enclosure's settings
  STRCMP_EQUAL("GetSensors", sent[0].name().c_str());
  LONGS_EQUAL(proto::SP_A, sent[0].target());
  LONGS_EQUAL(proto::SP_B, sent[1].target());
  STRCMP_EQUAL("web 198.18.0.100", sent[1].caller().origin().c_str());
}

TEST(Chassis, HealthIsTheWorstSensor) {
  Served a(SpId::A, Role::Active);
  proto::CommandResult healthy;
  healthy.set_status(proto::CommandResult::OK);
  addSensor(healthy, "CPU0Temp", "CPU 0", "Temperature", 40, "Cel", 95, proto::HEALTH_OK);
  a.bus.answerFor("GetSensors", proto::SP_A, healthy);
  a.bus.answerFor("GetSensors", proto::SP_B, healthy);
  STRCMP_EQUAL("OK", str(a.get(kEnclosure).body["Status"]["Health"]).c_str());
  proto::CommandResult warm = healthy;
  warm.mutable_sensors()->mutable_sensors(0)->set_health(proto::HEALTH_WARNING);
  a.bus.answerFor("GetSensors", proto::SP_B, warm);
  STRCMP_EQUAL("Warning", str(a.get(kEnclosure).body["Status"]["HealthRollup"]).c_str());
}

TEST(Chassis, OnlyTheEnclosureExists) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  for (const char* path : {"/redfish/v1/Chassis/Shelf", "/redfish/v1/Chassis/Shelf/Sensors",
                           "/redfish/v1/Chassis/Shelf/Sensors/SPA_Fan0",
                           "/redfish/v1/Chassis/Shelf/ThermalSubsystem/Fans/SPA_Fan0"}) {
    Response res = a.get(path);
    checkError(res, 404, "Base.1.22.1.ResourceNotFound");
    CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
          Json::array({"Chassis", "Shelf"}));
  }
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Chassis, NotServedInDegradedMode) {
  Served a(SpId::A, Role::Active, ServeMode::Degraded);
  answerBoth(a);
  for (const char* path : {"/redfish/v1/Chassis", kEnclosure, kSensors,
                           "/redfish/v1/Chassis/Enclosure/Sensors/SPA_Fan0",
                           "/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans",
                           "/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies/SPA_PSU0"})
    checkError(a.get(path), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, a.bus.calls());
}

TEST(Chassis, ThisSpNotAnsweringIsUnavailable) {
  Served a(SpId::A, Role::Active);
  a.bus.answerFor("GetSensors", proto::SP_B, sensorsResult(proto::SP_B));
  Response res = a.get(kEnclosure);  // SP-A's spd silent
  checkError(res, 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(a.get(kSensors), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST_GROUP(Sensors){};

TEST(Sensors, CollectionListsBothSpsSensorsUnderTheirSp) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response res = a.get(kSensors);
  LONGS_EQUAL(200, res.status);
  STRCMP_EQUAL("#SensorCollection.SensorCollection", str(res.body["@odata.type"]).c_str());
  LONGS_EQUAL(10, res.body["Members@odata.count"].get<int>());
  std::vector<std::string> ids = memberIds(res.body);
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Sensors/SPA_CPU0Temp", ids[0].c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Sensors/SPA_Board12V", ids[4].c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Sensors/SPB_CPU0Temp", ids[5].c_str());
  const Json& oem = res.body["Oem"]["DualSP"];
  CHECK_FALSE(oem["Stale"].get<bool>());
  CHECK(oem["Sources"] == Json::parse(R"({"A": {"Stale": false, "AgeMs": 0},
                                          "B": {"Stale": false, "AgeMs": 0}})"));
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
}

TEST(Sensors, APeerThatDoesNotAnswerContributesNothing) {
  Served a(SpId::A, Role::Active);
  a.bus.answerFor("GetSensors", proto::SP_A, sensorsResult(proto::SP_A));
  a.bus.answerFor("GetSensors", proto::SP_B, resultWithStatus(proto::CommandResult::UNAVAILABLE));
  Response res = a.get(kSensors);
  LONGS_EQUAL(200, res.status);
  LONGS_EQUAL(5, res.body["Members@odata.count"].get<int>());
  for (const std::string& id : memberIds(res.body)) STRCMP_CONTAINS("/SPA_", id.c_str());
  const Json& oem = res.body["Oem"]["DualSP"];
  CHECK(oem["Stale"].get<bool>());
  CHECK(oem["Sources"]["B"]["Stale"].get<bool>());
  CHECK(oem["Sources"]["B"]["AgeMs"].is_null());
  CHECK_FALSE(oem["Sources"]["A"]["Stale"].get<bool>());

  a.bus.answerFor("GetSensors", proto::SP_B, std::nullopt);  // no answer at all: the same
  LONGS_EQUAL(5, a.get(kSensors).body["Members@odata.count"].get<int>());
  LONGS_EQUAL(200, a.get(kEnclosure).status);
}

TEST(Sensors, APeersStaleAnswerIsListedAndMarked) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  proto::CommandResult stale = sensorsResult(proto::SP_B);
  stale.set_stale(true);
  stale.set_age_ms(4200);
  a.bus.answerFor("GetSensors", proto::SP_B, stale);
  Response res = a.get(kSensors);
  LONGS_EQUAL(10, res.body["Members@odata.count"].get<int>());
  CHECK(res.body["Oem"]["DualSP"]["Stale"].get<bool>());
  LONGS_EQUAL(4200, res.body["Oem"]["DualSP"]["Sources"]["B"]["AgeMs"].get<int>());
  Response sensor = a.get(std::string(kSensors) + "/SPB_CPU0Temp");
  CHECK(sensor.body["Oem"]["DualSP"]["Stale"].get<bool>());
  LONGS_EQUAL(4200, sensor.body["Oem"]["DualSP"]["AgeMs"].get<int>());
}

TEST(Sensors, OneSensorIsAskedOfItsSp) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response res = a.get(std::string(kSensors) + "/SPB_CPU0Temp");
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  LONGS_EQUAL(1, a.bus.calls());
  STRCMP_EQUAL("GetSensors", a.bus.last().name().c_str());
  LONGS_EQUAL(proto::SP_B, a.bus.last().target());
  const Json& b = res.body;
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Sensors/SPB_CPU0Temp", str(b["@odata.id"]).c_str());
  STRCMP_CONTAINS("#Sensor.v1_", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("SPB_CPU0Temp", str(b["Id"]).c_str());
  STRCMP_EQUAL("SP-B CPU 0 temperature", str(b["Name"]).c_str());
  STRCMP_EQUAL("Temperature", str(b["ReadingType"]).c_str());
  STRCMP_EQUAL("Cel", str(b["ReadingUnits"]).c_str());
  DOUBLES_EQUAL(47.5, b["Reading"].get<double>(), 1e-9);
  DOUBLES_EQUAL(95, b["Thresholds"]["UpperCritical"]["Reading"].get<double>(), 1e-9);
  STRCMP_EQUAL("Enabled", str(b["Status"]["State"]).c_str());
  STRCMP_EQUAL("OK", str(b["Status"]["Health"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Managers/SPB", str(b["RelatedItem"][0]["@odata.id"]).c_str());
  const Json& oem = b["Oem"]["DualSP"];
  CHECK_FALSE(oem["Stale"].get<bool>());
  STRCMP_EQUAL("B", str(oem["AnsweredBy"]).c_str());
  STRCMP_EQUAL("A", str(oem["ServedBy"]).c_str());
}

TEST(Sensors, KindsMapToReadingTypesAndUnits) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response fan = a.get(std::string(kSensors) + "/SPA_Fan0");
  STRCMP_EQUAL("Rotational", str(fan.body["ReadingType"]).c_str());
  STRCMP_EQUAL("{rev}/min", str(fan.body["ReadingUnits"]).c_str());  // Sensor_v1: not "RPM"
  CHECK_FALSE(fan.body.contains("Thresholds"));                      // none: upper_critical 0
  Response psu = a.get(std::string(kSensors) + "/SPA_PSU0Power");
  STRCMP_EQUAL("Power", str(psu.body["ReadingType"]).c_str());
  STRCMP_EQUAL("W", str(psu.body["ReadingUnits"]).c_str());
  Response rail = a.get(std::string(kSensors) + "/SPA_Board12V");
  STRCMP_EQUAL("Voltage", str(rail.body["ReadingType"]).c_str());
  STRCMP_EQUAL("V", str(rail.body["ReadingUnits"]).c_str());
  STRCMP_EQUAL("SP-A Board12V", str(rail.body["Name"]).c_str());  // no name: its id
  STRCMP_EQUAL("Critical",
               str(a.get(std::string(kSensors) + "/SPA_Fan10").body["Status"]["Health"]).c_str());
}

TEST(Sensors, UnknownSensorsAreNotFound) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  for (const char* id : {"CPU0Temp", "SPC_CPU0Temp", "SPA_", "_CPU0Temp"}) {
    Response res = a.get(std::string(kSensors) + "/" + id);
    checkError(res, 404, "Base.1.22.1.ResourceNotFound");
    CHECK(res.body["error"]["@Message.ExtendedInfo"][0]["MessageArgs"] ==
          Json::array({"Sensor", id}));
  }
  LONGS_EQUAL(0, a.bus.calls());  // the id names no SP: nobody to ask
  checkError(a.get(std::string(kSensors) + "/SPA_Nothing"), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(1, a.bus.calls());
  a.bus.answerFor("GetSensors", proto::SP_B, resultWithStatus(proto::CommandResult::UNAVAILABLE));
  checkError(a.get(std::string(kSensors) + "/SPB_CPU0Temp"), 503,
             "Base.1.22.1.ServiceTemporarilyUnavailable");
}

TEST_GROUP(EnclosureParts){};

TEST(EnclosureParts, FansComeFromTheInventoryWithTheirSensor) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  a.bus.answerFor("GetSensors", proto::SP_B, sensorsResult(proto::SP_B, proto::HEALTH_CRITICAL));
  Response thermal = a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem");
  LONGS_EQUAL(200, thermal.status);
  STRCMP_CONTAINS("#ThermalSubsystem.v1_", str(thermal.body["@odata.type"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans",
               str(thermal.body["Fans"]["@odata.id"]).c_str());
  STRCMP_EQUAL("Critical", str(thermal.body["Status"]["Health"]).c_str());  // SP-B's Fan0

  Response fans = a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans");
  LONGS_EQUAL(200, fans.status);
  STRCMP_EQUAL("#FanCollection.FanCollection", str(fans.body["@odata.type"]).c_str());
  std::vector<std::string> ids = memberIds(fans.body);
  LONGS_EQUAL(4, ids.size());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPA_Fan0", ids[0].c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPB_Fan1", ids[3].c_str());

  Response fan = a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPB_Fan0");
  LONGS_EQUAL(200, fan.status);
  const Json& b = fan.body;
  STRCMP_CONTAINS("#Fan.v1_", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("SPB_Fan0", str(b["Id"]).c_str());
  STRCMP_EQUAL("SP-B Fan 0", str(b["Name"]).c_str());
  STRCMP_EQUAL("DualSP Sim", str(b["Manufacturer"]).c_str());
  STRCMP_EQUAL("SIMFan0", str(b["SerialNumber"]).c_str());
  STRCMP_EQUAL("PN-1", str(b["PartNumber"]).c_str());
  STRCMP_EQUAL("Critical", str(b["Status"]["Health"]).c_str());
  DOUBLES_EQUAL(7200, b["SpeedPercent"]["SpeedRPM"].get<double>(), 1e-9);
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Sensors/SPB_Fan0",
               str(b["SpeedPercent"]["DataSourceUri"]).c_str());

  // A fan without a sensor of its own: there, health unknown.
  Response lone = a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPA_Fan1");
  LONGS_EQUAL(200, lone.status);
  CHECK_FALSE(lone.body.contains("SpeedPercent"));
  CHECK_FALSE(lone.body["Status"].contains("Health"));
  STRCMP_EQUAL("Enabled", str(lone.body["Status"]["State"]).c_str());
}

TEST(EnclosureParts, PowerSuppliesComeFromTheInventory) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response power = a.get("/redfish/v1/Chassis/Enclosure/PowerSubsystem");
  LONGS_EQUAL(200, power.status);
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies",
               str(power.body["PowerSupplies"]["@odata.id"]).c_str());
  STRCMP_EQUAL("OK", str(power.body["Status"]["Health"]).c_str());
  Response psus = a.get("/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies");
  std::vector<std::string> ids = memberIds(psus.body);
  LONGS_EQUAL(2, ids.size());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies/SPA_PSU0",
               ids[0].c_str());
  Response psu = a.get("/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies/SPA_PSU0");
  LONGS_EQUAL(200, psu.status);
  STRCMP_CONTAINS("#PowerSupply.v1_", str(psu.body["@odata.type"]).c_str());
  STRCMP_EQUAL("SP-A PSU 0", str(psu.body["Name"]).c_str());
  STRCMP_EQUAL("OK", str(psu.body["Status"]["Health"]).c_str());
  DOUBLES_EQUAL(550, psu.body["PowerCapacityWatts"].get<double>(), 1e-9);
  // A fan is not a power supply, and the board is neither.
  checkError(a.get("/redfish/v1/Chassis/Enclosure/PowerSubsystem/PowerSupplies/SPA_Fan0"), 404,
             "Base.1.22.1.ResourceNotFound");
  checkError(a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans/SPA_Board"), 404,
             "Base.1.22.1.ResourceNotFound");
}

TEST(EnclosureParts, APeerWithoutAnInventoryContributesNothing) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  a.bus.answerFor("GetInventory", proto::SP_B, resultWithStatus(proto::CommandResult::TIMEOUT));
  Response fans = a.get("/redfish/v1/Chassis/Enclosure/ThermalSubsystem/Fans");
  LONGS_EQUAL(200, fans.status);
  LONGS_EQUAL(2, fans.body["Members@odata.count"].get<int>());
  CHECK(fans.body["Oem"]["DualSP"]["Sources"]["B"]["AgeMs"].is_null());
}

// The legacy Thermal and Power (routes/thermal.cpp, routes/power.cpp): the same answers as the
// subsystems, as arrays of referenceable members, for the clients that still read them.
TEST_GROUP(LegacyThermalAndPower){};

namespace {

const char* const kThermal = "/redfish/v1/Chassis/Enclosure/Thermal";
const char* const kPower = "/redfish/v1/Chassis/Enclosure/Power";

Json managerLink(const char* id) {
  return Json::array({{{"@odata.id", std::string("/redfish/v1/Managers/") + id}}});
}

}  // namespace

TEST(LegacyThermalAndPower, TheEnclosureLinksThemBesideTheSubsystems) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  const Json b = a.get(kEnclosure).body;
  STRCMP_EQUAL(kThermal, str(b["Thermal"]["@odata.id"]).c_str());
  STRCMP_EQUAL(kPower, str(b["Power"]["@odata.id"]).c_str());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/ThermalSubsystem",
               str(b["ThermalSubsystem"]["@odata.id"]).c_str());
}

TEST(LegacyThermalAndPower, ThermalListsBothSpsTemperaturesAndFans) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response res = a.get(kThermal);
  LONGS_EQUAL(200, res.status);
  checkCommonHeaders(res, "A");
  const Json& b = res.body;
  STRCMP_EQUAL(kThermal, str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#Thermal.v1_7_3.Thermal", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("Thermal", str(b["Id"]).c_str());
  // One Temperature sensor per SP, this SP's first; MemberId is the index (Redfish 1.6).
  const Json& temps = b["Temperatures"];
  LONGS_EQUAL(2, temps.size());
  LONGS_EQUAL(2, b["Temperatures@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Thermal#/Temperatures/0",
               str(temps[0]["@odata.id"]).c_str());
  STRCMP_EQUAL("0", str(temps[0]["MemberId"]).c_str());
  STRCMP_EQUAL("SP-A CPU 0 temperature", str(temps[0]["Name"]).c_str());
  DOUBLES_EQUAL(47.5, temps[0]["ReadingCelsius"].get<double>(), 1e-9);
  DOUBLES_EQUAL(95, temps[0]["UpperThresholdCritical"].get<double>(), 1e-9);
  STRCMP_EQUAL("Enabled", str(temps[0]["Status"]["State"]).c_str());
  STRCMP_EQUAL("OK", str(temps[0]["Status"]["Health"]).c_str());
  CHECK(temps[0]["RelatedItem"] == managerLink("SPA"));
  STRCMP_EQUAL("1", str(temps[1]["MemberId"]).c_str());
  STRCMP_EQUAL("SP-B CPU 0 temperature", str(temps[1]["Name"]).c_str());
  CHECK(temps[1]["RelatedItem"] == managerLink("SPB"));
  // The inventory's fans, each with its own sensor's reading in whole RPM.
  const Json& fans = b["Fans"];
  LONGS_EQUAL(4, fans.size());
  LONGS_EQUAL(4, b["Fans@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Thermal#/Fans/0", str(fans[0]["@odata.id"]).c_str());
  STRCMP_EQUAL("SP-A Fan 0", str(fans[0]["Name"]).c_str());
  CHECK(fans[0]["Reading"].is_number_integer());
  LONGS_EQUAL(7200, fans[0]["Reading"].get<int>());
  STRCMP_EQUAL("RPM", str(fans[0]["ReadingUnits"]).c_str());
  STRCMP_EQUAL("SIMFan0", str(fans[0]["SerialNumber"]).c_str());
  STRCMP_EQUAL("OK", str(fans[0]["Status"]["Health"]).c_str());
  STRCMP_EQUAL("SP-A Fan 1", str(fans[1]["Name"]).c_str());  // no sensor: no reading
  CHECK_FALSE(fans[1].contains("Reading"));
  CHECK_FALSE(fans[1]["Status"].contains("Health"));
  STRCMP_EQUAL("SP-B Fan 0", str(fans[2]["Name"]).c_str());
  STRCMP_EQUAL("3", str(fans[3]["MemberId"]).c_str());
  STRCMP_EQUAL("OK", str(b["Status"]["Health"]).c_str());  // "Fan10" is no inventory fan's
  CHECK_FALSE(b["Oem"]["DualSP"]["Stale"].get<bool>());
  LONGS_EQUAL(4, a.bus.calls());  // GetInventory and GetSensors of each SP
}

TEST(LegacyThermalAndPower, ThermalHealthIsTheWorstOfItsMembers) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  a.bus.answerFor("GetSensors", proto::SP_B, sensorsResult(proto::SP_B, proto::HEALTH_CRITICAL));
  const Json b = a.get(kThermal).body;
  STRCMP_EQUAL("Critical", str(b["Status"]["Health"]).c_str());
  STRCMP_EQUAL("Critical", str(b["Fans"][2]["Status"]["Health"]).c_str());
  STRCMP_EQUAL("OK", str(b["Fans"][0]["Status"]["Health"]).c_str());
}

TEST(LegacyThermalAndPower, PowerListsTheSuppliesAndVoltageRails) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  Response res = a.get(kPower);
  LONGS_EQUAL(200, res.status);
  const Json& b = res.body;
  STRCMP_EQUAL(kPower, str(b["@odata.id"]).c_str());
  STRCMP_EQUAL("#Power.v1_7_3.Power", str(b["@odata.type"]).c_str());
  STRCMP_EQUAL("Power", str(b["Id"]).c_str());
  CHECK_FALSE(b.contains("PowerControl"));  // the SPs measure no enclosure total
  const Json& supplies = b["PowerSupplies"];
  LONGS_EQUAL(2, supplies.size());
  LONGS_EQUAL(2, b["PowerSupplies@odata.count"].get<int>());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Power#/PowerSupplies/0",
               str(supplies[0]["@odata.id"]).c_str());
  STRCMP_EQUAL("0", str(supplies[0]["MemberId"]).c_str());
  STRCMP_EQUAL("SP-A PSU 0", str(supplies[0]["Name"]).c_str());
  DOUBLES_EQUAL(182.5, supplies[0]["PowerOutputWatts"].get<double>(), 1e-9);
  DOUBLES_EQUAL(550, supplies[0]["PowerCapacityWatts"].get<double>(), 1e-9);
  STRCMP_EQUAL("SIMPSU0", str(supplies[0]["SerialNumber"]).c_str());
  STRCMP_EQUAL("OK", str(supplies[0]["Status"]["Health"]).c_str());
  CHECK(supplies[1]["RelatedItem"] == managerLink("SPB"));
  const Json& volts = b["Voltages"];
  LONGS_EQUAL(2, volts.size());
  STRCMP_EQUAL("/redfish/v1/Chassis/Enclosure/Power#/Voltages/1",
               str(volts[1]["@odata.id"]).c_str());
  STRCMP_EQUAL("SP-A Board12V", str(volts[0]["Name"]).c_str());  // no name: its id
  DOUBLES_EQUAL(12.06, volts[0]["ReadingVolts"].get<double>(), 1e-9);
  CHECK_FALSE(volts[0].contains("UpperThresholdCritical"));  // none set
  STRCMP_EQUAL("Enabled", str(volts[0]["Status"]["State"]).c_str());
}

TEST(LegacyThermalAndPower, APeerThatDoesNotAnswerContributesNothingAndIsNamed) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  a.bus.answerFor("GetInventory", proto::SP_B, resultWithStatus(proto::CommandResult::TIMEOUT));
  Response thermal = a.get(kThermal);
  LONGS_EQUAL(200, thermal.status);
  LONGS_EQUAL(2, thermal.body["Fans"].size());          // SP-A's only
  LONGS_EQUAL(2, thermal.body["Temperatures"].size());  // SP-B's sensors still answered
  const Json& oem = thermal.body["Oem"]["DualSP"];
  CHECK(oem["Stale"].get<bool>());
  CHECK(oem["Sources"]["B"]["AgeMs"].is_null());
  CHECK_FALSE(oem["Sources"]["A"]["Stale"].get<bool>());

  a.bus.answerFor("GetSensors", proto::SP_B, std::nullopt);
  Response power = a.get(kPower);
  LONGS_EQUAL(200, power.status);
  LONGS_EQUAL(1, power.body["PowerSupplies"].size());
  LONGS_EQUAL(1, power.body["Voltages"].size());
  STRCMP_CONTAINS("SP-A", str(power.body["Voltages"][0]["Name"]).c_str());
}

TEST(LegacyThermalAndPower, OnlyTheEnclosureInFullModeAndThisSpMustAnswer) {
  Served a(SpId::A, Role::Active);
  answerBoth(a);
  for (const char* path : {"/redfish/v1/Chassis/Shelf/Thermal", "/redfish/v1/Chassis/Shelf/Power"})
    checkError(a.get(path), 404, "Base.1.22.1.ResourceNotFound");
  LONGS_EQUAL(0, a.bus.calls());
  Served silent(SpId::A, Role::Active);  // SP-A's spd answers nothing
  checkError(silent.get(kThermal), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(silent.get(kPower), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  Served degraded(SpId::A, Role::Active, ServeMode::Degraded);
  answerBoth(degraded);
  checkError(degraded.get(kThermal), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  checkError(degraded.get(kPower), 503, "Base.1.22.1.ServiceTemporarilyUnavailable");
  LONGS_EQUAL(0, degraded.bus.calls());
}
