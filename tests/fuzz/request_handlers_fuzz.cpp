// libFuzzer target for spweb's request handling without sockets: the real route table
// (buildRouteTable), the Dispatcher, every handler behind it, request body parsing
// (webserver/request_body.hpp), with a status board and an spd of this target's own
// (docs/WEB.md, docs/SECURITY.md "Hostile input"). For every request:
//   - nothing escapes handle(); the status is one spweb answers with (200, 201, 204, 400, 403,
//     404, 405, 409, 413, 422, 500, 503, 507);
//   - a 5xx is explained: 500 only after spd answered TIMEOUT or INTERNAL (or this target's
//     hostile spd answered anything at all), 503 only in degraded mode, without a readable
//     status board or after spd gave no answer or UNAVAILABLE, 507 only after
//     INSUFFICIENT_STORAGE. Malformed client input is never a 500;
//   - every error (4xx, 5xx) has a Redfish error body: error.code, error.message and
//     @Message.ExtendedInfo whose first MessageId is the code; a 405 carries Allow, a 503
//     Retry-After;
//   - a 200 or 201 has an object body with an @odata.id under /redfish (or is the event
//     stream, $metadata or a file of the web console, with its CSP), a 201 a Location equal to it,
//     a 204 no body; the common headers are there (X-DualSP-SP, OData-Version, Content-Type exactly
//     when there is a body);
//   - no header name or value holds CR, LF or NUL;
//   - the body serializes with the replacing UTF-8 handler always, and with the strict one
//     whenever everything the client sent (path, query, headers, body) and the board's texts
//     were valid UTF-8;
//   - a query parameter ($expand, $filter, ...) makes no 5xx of its own: its internal GETs are
//     bounded and a malformed value is a 400;
//   - a request refused before its handler (no route, 405, degraded 503, 413) sends nothing
//     to spd; a GET or HEAD never sends a write (ConfigWrite, ResetSp, ForceFailover); a PATCH
//     or POST whose body is not a JSON object (and not empty, for the actions) writes nothing
//     and is answered 400 (or 404 for an id that names nothing, checked first).
//
// Input: [u8 setup][u8 route][u8 method][u8 path form] then length-prefixed fields
// [u8 length][bytes]: parameter 1, parameter 2, query, Last-Event-ID, board fault text, spd
// script; the rest is the body.
//   setup bit 0: this SP is SP-B; bit 1: degraded mode; bits 2-3: board (none, this SP active,
//   passive, another layout version); bit 4: hostile spd; bit 5: the body was too large;
//   bits 6-7: how many faults the board carries.
//   route: an index into the route table; its {parameters} are the fields (an empty field: a
//   plausible id chosen by the path form's upper bits). Path form bit 0: a trailing slash;
//   bit 1: a path of the fuzzer's own instead ("/redfish/v1/" + parameter 1).
//   method: one of the eight HttpMethod values.
//   spd script: one byte per command spd receives (cycled). Well-behaved spd: 0-7 OK (the
//   answer a real spd gives: an in-memory configuration store and event log, sensors,
//   inventory, log lines, SP status; bit 3 of the upper nibble marks it stale), 8 no answer,
//   9 NOT_FOUND, 10 BAD_REQUEST, 11 UNAVAILABLE, 12 FORBIDDEN, 13 INSUFFICIENT_STORAGE,
//   14 TIMEOUT, 15 INTERNAL. Hostile spd: the script is a sequence of [u8 length][bytes]
//   parsed as each CommandResult (unparsable: no answer), as the local bus would.
// With DUALSP_FUZZ_WRITE_SEEDS=<dir> it writes a small seed corpus there and exits.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ipc/status_board.hpp"
#include "platform/log.hpp"
#include "proto/bus.pb.h"
#include "tests/unit/webserver/fake_config_store.hpp"
#include "webserver/account_access.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/dispatcher.hpp"
#include "webserver/routes/routes.hpp"

using namespace dualsp;
using namespace dualsp::web;

namespace {

#define FUZZ_EXPECT(cond)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "request_handlers_fuzz: expectation failed: %s\n", #cond); \
      __builtin_trap();                                                          \
    }                                                                            \
  } while (0)

constexpr int64_t kNowMs = 1'800'000'000'000;
const std::string kArray = "fuzz-array";

struct Reader {
  const uint8_t* p;
  size_t left;
  uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  std::string field() {
    size_t n = std::min<size_t>(u8(), left);
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return s;
  }
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(p), left);
    p += left;
    left = 0;
    return s;
  }
};

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

std::string_view commandName(const proto::Command& c) {
  return c.name();
}

bool isWrite(std::string_view name) {
  return name == kConfigWrite || name == kResetSp || name == kForceFailover ||
         name == "StorageWrite";
}

// spd as this target plays it: well-behaved (the answers a real spd gives, with the statuses
// the script picks) or hostile (whatever CommandResult the script's bytes parse to).
class ScriptedSpd : public ipc::CommandClient {
 public:
  ScriptedSpd(std::string script, bool hostile, SpId self)
      : script_(std::move(script)), hostile_(hostile), self_(self), store_(store_bus_) {
    store_.put("chassis/AssetTag", "\"rack 4\"");
    store_.put("chassis/Location",
               R"({"PartLocation":{"ServiceLabel":"U12"},"Placement":{"Rack":"R7"}})");
    store_.put("subscriptions/1",
               R"({"Destination":"http://198.18.0.100/events","Protocol":"Redfish"})");
    store_.put("subscriptions/2",
               R"({"Destination":"http://192.0.2.9:8080/x","Protocol":"Redfish","Context":"é"})");
    store_.put("managers/SPA/ServiceIdentification", "\"array 7 — top\"");
    store_.put("network/management",
               R"({"Address":"198.18.0.10","SubnetMask":"255.255.255.0","Gateway":"198.18.0.1"})");
    store_.addEvent("ResourceEvent.1.4.3.ResourceChanged", "The resource changed (AssetTag).");
    store_.addEvent("Base.1.22.1.Success", "Événement réussi.");
    store_.addEvent("ResourceEvent.1.4.3.ResourceCreated", "created");
  }

  std::optional<proto::CommandResult> call(const proto::Command& command,
                                           std::chrono::milliseconds) override {
    names.emplace_back(commandName(command));
    // spd reads what spweb sends through the local bus: a BusRequest parsed (proto3 strings
    // must be UTF-8, or spd drops the request and spweb waits for its whole timeout), and a
    // ConfigWrite's payload parsed again (or spd refuses it as unreadable).
    proto::BusRequest request;
    request.set_reply_queue("fuzz");
    *request.mutable_command() = command;
    proto::BusRequest received;
    if (!received.ParseFromString(request.SerializeAsString())) {
      fprintf(stderr, "request_handlers_fuzz: spd could not read command %s\n",
              command.name().c_str());
      FUZZ_EXPECT(false);
    }
    if (command.name() == kConfigWrite) {
      proto::ConfigWrite change;
      if (!change.ParseFromString(command.payload())) {
        fprintf(stderr, "request_handlers_fuzz: spd could not read the ConfigWrite payload\n");
        FUZZ_EXPECT(false);
      }
    }
    if (hostile_) return hostileAnswer();
    const uint8_t s = script_.empty() ? 0 : static_cast<uint8_t>(script_[next_++ % script_.size()]);
    auto fail = [&](proto::CommandResult::Status status) {
      proto::CommandResult r;
      r.set_status(status);
      r.set_error(s & 0x80 ? "spd says: the disk é is full" : "");
      r.set_served_by(ipc::toProto(self_));
      return r;
    };
    switch (s % 16) {
      case 8:
        saw_no_answer = true;
        if (s & 0x80) {
          // Sent and not answered (the bus client's UNANSWERED): a change's outcome is
          // unknown (500 OperationTimeout), a read's 503.
          saw_internal = true;
          return fail(proto::CommandResult::UNANSWERED);
        }
        return std::nullopt;
      case 9:
        return fail(proto::CommandResult::NOT_FOUND);
      case 10:
        return fail(proto::CommandResult::BAD_REQUEST);
      case 11:
        saw_no_answer = true;
        return fail(proto::CommandResult::UNAVAILABLE);
      case 12:
        return fail(proto::CommandResult::FORBIDDEN);
      case 13:
        saw_storage = true;
        return fail(proto::CommandResult::INSUFFICIENT_STORAGE);
      case 14:
        saw_internal = true;
        return fail(proto::CommandResult::TIMEOUT);
      case 15:
        saw_internal = true;
        return fail(proto::CommandResult::INTERNAL);
      default:
        return answer(command, (s & 0x40) != 0);
    }
  }

  std::vector<std::string> names;
  bool saw_no_answer = false;
  bool saw_internal = false;
  bool saw_storage = false;

 private:
  std::optional<proto::CommandResult> hostileAnswer() {
    if (next_ >= script_.size()) {
      saw_no_answer = true;
      return std::nullopt;
    }
    const size_t n =
        std::min<size_t>(static_cast<uint8_t>(script_[next_]), script_.size() - next_ - 1);
    const std::string bytes = script_.substr(next_ + 1, n);
    next_ += 1 + n;
    proto::CommandResult r;
    if (!r.ParseFromString(bytes)) {
      saw_no_answer = true;
      return std::nullopt;
    }
    return r;
  }

  proto::CommandResult answer(const proto::Command& c, bool stale) {
    const std::string_view name = c.name();
    if (name == kGetConfig || name == kConfigWrite || name == kGetEvents) {
      std::optional<proto::CommandResult> r = store_bus_.call(c, std::chrono::milliseconds(1));
      if (r && r->status() == proto::CommandResult::NOT_FOUND) return *r;
      FUZZ_EXPECT(r.has_value());
      return *r;
    }
    if (name == "IdempotencyCheck" || name == "IdempotencyRecord") {
      // What sp/idempotency.cpp answers a first attempt: go ahead; and its result: kept.
      proto::CommandResult r;
      r.set_status(proto::CommandResult::OK);
      r.set_served_by(ipc::toProto(self_));
      r.set_payload(name == "IdempotencyCheck" ? R"({"state":"none"})" : R"({"recorded":true})");
      return r;
    }
    proto::CommandResult r;
    r.set_status(name == kResetSp ? proto::CommandResult::ACCEPTED : proto::CommandResult::OK);
    const proto::SpId about = c.target() == proto::SP_UNKNOWN ? ipc::toProto(self_) : c.target();
    r.set_answered_by(about);
    r.set_served_by(ipc::toProto(self_));
    const bool peer = about != ipc::toProto(self_);
    if (stale && peer) {
      r.set_stale(true);
      r.set_age_ms(1234);
    }
    if (name == kGetSpStatus) {
      proto::SpStatus* s = r.mutable_sp_status();
      s->set_sp(about);
      s->set_role(peer ? proto::ROLE_PASSIVE : proto::ROLE_ACTIVE);
      s->set_health(peer ? proto::HEALTH_WARNING : proto::HEALTH_OK);
      s->set_epoch(7);
      s->set_uptime_s(90);
      s->set_boot_id("2b1f0c7e-0000-4000-8000-00000000000a");
      s->set_firmware_version("0.1.0+fuzz");
      s->set_boot_time_ms(kNowMs - 90'000);
      s->set_management_address("198.18.0.11");
      s->set_peer_link_route("peer-link");
      proto::Fault* f = s->add_faults();
      f->set_message_id("Environmental.1.4.0.SensorThresholdWarning");
      f->set_text("CPU0 température 85 °C");
      f->set_severity(proto::HEALTH_WARNING);
      proto::Temperature* t = s->add_temperatures();
      t->set_name("CPU0");
      t->set_celsius(47.5);
      proto::SpMetrics* m = s->mutable_metrics();
      m->set_cpu_percent(12.5);
      m->set_memory_percent(40);
      if (!stale) m->set_read_iops(1200);
    } else if (name == kGetSpMetrics) {
      // What spd's GetSpMetrics answers (sp/commands/metrics.cpp): never stale (the router
      // answers UNAVAILABLE instead), a figure it could not read left out and explained.
      r.set_stale(false);
      r.set_age_ms(0);
      proto::SpMetrics* m = r.mutable_sp_metrics();
      m->set_sp(about);
      m->set_sampled_at_ms(kNowMs - 3);
      m->set_cpu_percent(37.5);
      m->set_cpu_interval_ms(1500);
      m->set_memory_percent(61.25);
      if (!stale) {
        m->set_read_iops(1200);
        m->set_write_iops(300.5);
        m->set_read_bytes_per_second(52428800);
        m->set_write_bytes_per_second(1e300);
      } else {
        m->set_error("cannot read /proc/diskstats: é");
      }
    } else if (name == kGetSensors) {
      auto add = [&](const char* id, const char* kind, double reading, const char* units) {
        proto::Sensor* s = r.mutable_sensors()->add_sensors();
        s->set_id(id);
        s->set_name(std::string(id) + " °");
        s->set_kind(kind);
        s->set_reading(reading);
        s->set_units(units);
        s->set_health(proto::HEALTH_OK);
      };
      add("CPU0Temp", "Temperature", 47.5, "Cel");
      add("Fan1", "Rotational", 7200, "RPM");
      add("PSU0Power", "Power", 182.5, "W");
    } else if (name == kGetInventory) {
      auto add = [&](const char* id, const char* kind) {
        proto::InventoryItem* i = r.mutable_inventory()->add_items();
        i->set_id(id);
        i->set_kind(kind);
        i->set_name(std::string(kind) + " " + id);
        i->set_serial_number("SN-ß-1");
      };
      add("Board", "Board");
      add("Fan1", "Fan");
      add("PSU0", "PowerSupply");
    } else if (name == kGetLog) {
      uint64_t wanted = 0;
      auto it = c.args().find("lines");
      if (it != c.args().end()) wanted = std::stoull(it->second);
      const char* lines[] = {
          "2026-11-22T02:38:38.123Z SP-A spd[12]: <warning> peer silent on: management",
          "2026-11-22T02:38:39Z SP-A spweb[13]: <info> GET /redfish/v1 from 198.18.0.100",
          "not a timestamp <err> température 95 °C",
          "",
      };
      for (uint64_t i = 0; i < std::min<uint64_t>(wanted, 4); ++i)
        r.mutable_log()->add_lines(lines[i]);
      r.mutable_log()->set_total(1500);
    } else if (name == kGetAccounts) {
      // What spd's AccountService answers (sp/account_service.cpp getAccounts).
      Json state = {{"accounts", Json::array({{{"UserName", "admin"},
                                               {"RoleId", "Administrator"},
                                               {"Enabled", true},
                                               {"Locked", false},
                                               {"PasswordChangeRequired", false}},
                                              {{"UserName", "viewer"},
                                               {"RoleId", "ReadOnly"},
                                               {"Enabled", true},
                                               {"Locked", stale},
                                               {"PasswordChangeRequired", false}}})},
                    {"sessions", Json::array({{{"Id", "7"},
                                               {"UserName", "admin"},
                                               {"CreatedMs", kNowMs - 1000},
                                               {"Origin", "198.18.0.100"}}})},
                    {"policy",
                     {{"AccountLockoutThreshold", 5},
                      {"AccountLockoutDuration", 60},
                      {"AccountLockoutCounterResetAfter", 60},
                      {"SessionTimeout", 1800}}}};
      r.set_payload(state.dump());
    } else if (name == kAccountWrite) {
      auto user = c.args().find("user");
      r.set_payload(Json({{"UserName", user == c.args().end() ? "" : user->second},
                          {"RoleId", "Operator"},
                          {"Enabled", true},
                          {"Locked", false},
                          {"PasswordChangeRequired", false}})
                        .dump(-1, ' ', false, Json::error_handler_t::replace));
    } else if (name == kCreateSession) {
      auto user = c.args().find("user");
      r.set_payload(Json({{"id", "8"},
                          {"token", std::string(64, 'a')},
                          {"user", user == c.args().end() ? "" : user->second},
                          {"role", "Operator"},
                          {"password_change_required", false}})
                        .dump(-1, ' ', false, Json::error_handler_t::replace));
    } else if (name == "GetStorage") {
      // What spd's StorageService answers (sp/storage_service.cpp modelJson).
      Json model = {
          {"drives", Json::array({{{"Id", "Disk0"},
                                   {"Slot", 0},
                                   {"CapacityBytes", 4000787030016},
                                   {"MediaType", "HDD"},
                                   {"Protocol", "SAS"},
                                   {"Manufacturer", "Sim"},
                                   {"Model", "HDD-4T"},
                                   {"SerialNumber", "SIMD0001"},
                                   {"Failed", stale},
                                   {"Pool", "1"}}})},
          {"pools", Json::array({{{"Id", "1"},
                                  {"Name", "p"},
                                  {"RAIDType", "RAID1"},
                                  {"Drives", Json::array({"Disk0", "Disk1"})},
                                  {"DefaultOwner", "A"},
                                  {"CapacityBytes", 4000787030016},
                                  {"AllocatedBytes", 1073741824},
                                  {"Degraded", stale}}})},
          {"volumes",
           Json::array({{{"Id", "1"},
                         {"Name", "v"},
                         {"CapacityBytes", 1073741824},
                         {"Pool", "1"},
                         {"WWN", "6001405aaaaaaaaaaaaaaaaaaaaaaaaa"},
                         {"DefaultOwner", "A"},
                         {"CurrentOwner", "B"},
                         {"Transitioning", stale},
                         {"AccessStates", {{"A", "NonOptimized"}, {"B", "Optimized"}}}}})},
          {"ports", Json::array({{{"Id", "SPA-iSCSI0"},
                                  {"SP", "A"},
                                  {"PortId", "iSCSI0"},
                                  {"Protocol", "iSCSI"},
                                  {"Identifier", "iqn.2026-12.dualsp.sim:array.spa"},
                                  {"Address", "198.18.2.10:3260"},
                                  {"LinkUp", !stale},
                                  {"SpeedMbps", 25000}},
                                 {{"Id", "SPB-FC0"},
                                  {"SP", "B"},
                                  {"PortId", "FC0"},
                                  {"Protocol", "FC"},
                                  {"Identifier", "5001405b00000001"},
                                  {"Address", ""},
                                  {"LinkUp", true},
                                  {"SpeedMbps", 16000}}})},
          {"initiators", Json::array({{{"Id", "1"},
                                       {"Name", "h1"},
                                       {"Protocol", "iSCSI"},
                                       {"Identifier", "iqn.2026-12.org.example:h1"},
                                       {"Host", "1"}}})},
          {"hosts", Json::array({{{"Id", "1"},
                                  {"Name", "h1"},
                                  {"Kind", "Host"},
                                  {"Protocol", "iSCSI"},
                                  {"Initiators", Json::array({"1"})},
                                  {"Hosts", Json::array()},
                                  {"MemberOf", "2"}},
                                 {{"Id", "2"},
                                  {"Name", "cluster"},
                                  {"Kind", "HostGroup"},
                                  {"Protocol", "iSCSI"},
                                  {"Initiators", Json::array()},
                                  {"Hosts", Json::array({"1"})},
                                  {"MemberOf", ""}}})},
          {"mappings", Json::array({{{"Id", "1"},
                                     {"Group", "2"},
                                     {"Volume", "1"},
                                     {"LUN", 0},
                                     {"ReadOnly", stale},
                                     {"Ports", Json::array()}}})},
          {"policy", {{"AutoFailback", false}, {"AutoFailbackDelaySeconds", 60}}},
          {"self", "A"},
          {"dead", stale ? "B" : ""}};
      r.set_payload(model.dump());
    } else if (name == "StorageWrite") {
      if (stale) {
        // A refusal, as the storage model words it (sp/storage_model.hpp Refusal).
        r.set_status(proto::CommandResult::BAD_REQUEST);
        r.set_error("storage pool 1 has 0 bytes free");
        r.set_payload(Json({{"refusal",
                             {{"status", 400},
                              {"message", "PropertyValueOutOfRange"},
                              {"args", Json::array({"1073741824", "CapacityBytes"})},
                              {"detail", "storage pool 1 has 0 bytes free"}}}})
                          .dump());
      } else {
        r.set_payload(Json({{"id", "1"}, {"resource", Json::object()}}).dump());
      }
    } else if (name == kForceFailover) {
      if (stale) {
        r.set_status(proto::CommandResult::BAD_REQUEST);
        r.set_error("SP-B is not healthy");
      }
    }
    return r;
  }

  std::string script_;
  size_t next_ = 0;
  bool hostile_;
  SpId self_;
  test::FakeCommandClient store_bus_;
  test::FakeConfigStore store_;
};

const std::vector<std::string>& plausibleIds() {
  static const std::vector<std::string> ids = {"SPA",
                                               "SPB",
                                               "Enclosure",
                                               "1",
                                               "2",
                                               "3",
                                               "Floating",
                                               "Log",
                                               "SPA_Fan1",
                                               "SPB_PSU0",
                                               "SPA_CPU0Temp",
                                               "SPC",
                                               "0",
                                               "18446744073709551616",
                                               "Ünï",
                                               "SPA_",
                                               "SPB_PSU0Power",
                                               "spa",
                                               "%2F",
                                               "..",
                                               "Events",
                                               "iSCSI",
                                               "FC",
                                               "SPA-iSCSI0",
                                               "SPB-FC0",
                                               "iSCSI0",
                                               "ReadBytesPerSecond"};
  return ids;
}

std::string fillPattern(const std::string& pattern, const std::string& p1, const std::string& p2,
                        uint8_t form) {
  std::string out;
  int index = 0;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      const size_t close = pattern.find('}', i);
      const std::string& given = index == 0 ? p1 : p2;
      out += !given.empty() ? given
                            : plausibleIds()[(form >> 2) * (index + 1) % plausibleIds().size()];
      ++index;
      i = close + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

bool headerSafe(const std::string& s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

void checkErrorBody(const Response& res) {
  FUZZ_EXPECT(res.body.is_object() && res.body.contains("error"));
  const Json& e = res.body["error"];
  FUZZ_EXPECT(e.is_object());
  FUZZ_EXPECT(e.contains("code") && e["code"].is_string());
  FUZZ_EXPECT(e.contains("message") && e["message"].is_string());
  FUZZ_EXPECT(e.contains("@Message.ExtendedInfo") && e["@Message.ExtendedInfo"].is_array() &&
              !e["@Message.ExtendedInfo"].empty());
  for (const Json& info : e["@Message.ExtendedInfo"]) {
    FUZZ_EXPECT(info.is_object() && info.contains("MessageId") && info["MessageId"].is_string());
    FUZZ_EXPECT(info.contains("Message") && info["Message"].is_string());
  }
  FUZZ_EXPECT(e["@Message.ExtendedInfo"][0]["MessageId"] == e["code"]);
}

void writeSeeds(const std::string& dir);

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("DUALSP_FUZZ_WRITE_SEEDS")) {
    writeSeeds(dir);
    exit(0);
  }
  log::init("request_handlers_fuzz", "SP-A", "", log::Level::Critical);
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const RouteTable routes = buildRouteTable();
  Reader in{data, size};
  const uint8_t setup = in.u8();
  const uint8_t route_index = in.u8();
  const uint8_t method_byte = in.u8();
  const uint8_t form = in.u8();
  const std::string p1 = in.field();
  const std::string p2 = in.field();
  const std::string query = in.field();
  const std::string last_event_id = in.field();
  const std::string fault_text = in.field();
  const std::string script = in.field();
  const std::string body = in.rest();

  const SpId self = (setup & 1) ? SpId::B : SpId::A;
  const ServeMode mode = (setup & 2) ? ServeMode::Degraded : ServeMode::Full;
  const int board = setup >> 2 & 3;
  const bool hostile = setup & 0x10;

  // The board spd would publish; its fault texts go through copyField as spd's do.
  std::optional<ipc::StatusSnapshot> snapshot;
  if (board != 0) {
    ipc::StatusSnapshot s;
    ipc::copyField(s.array_id, kArray);
    ipc::copyField(s.boot_id, "2b1f0c7e-0000-4000-8000-00000000000a");
    ipc::copyField(s.firmware_version, "0.1.0+fuzz");
    ipc::copyField(s.management_address, "198.18.0.11");
    ipc::copyField(s.floating_address, "198.18.0.10");
    s.sp = self;
    s.role = board == 2 ? Role::Passive : Role::Active;
    s.health = (setup & 0xc0) ? Health::Critical : Health::Ok;
    s.holds_floating = s.role == Role::Active;
    s.epoch = 7;
    s.peer_alive = setup & 0x20;
    s.peer_role = s.role == Role::Active ? Role::Passive : Role::Active;
    s.paths_configured = 7;
    s.paths_alive = 5;
    if (board == 3) s.layout_version = ipc::StatusSnapshot::kLayoutVersion + 1;
    s.fault_count = setup >> 6;
    for (size_t i = 0; i < s.fault_count; ++i) {
      ipc::copyField(s.faults[i].message_id, "Environmental.1.4.0.SensorThresholdCritical");
      ipc::copyField(s.faults[i].text, fault_text + " #" + std::to_string(i));
      s.faults[i].severity = Health::Critical;
    }
    snapshot = s;
  }
  const bool board_readable = board == 1 || board == 2;

  ScriptedSpd spd(script, hostile, self);
  ServiceConfig config{self, mode, kArray, {}};
  // Who asks: mostly an administrator, so the handlers run; sometimes nobody (401), a
  // read-only account (403 on writes) or one that must change its password first.
  const unsigned who = (method_byte >> 3) % 8;
  Dispatcher dispatcher(
      routes, config, [&] { return snapshot; }, spd, [] { return kNowMs; },
      [who](const Request&) {
        if (who == 0) return AuthOutcome{AuthStatus::NoCredentials, {}};
        if (who == 1) return AuthOutcome{AuthStatus::Ok, {"viewer", "ReadOnly", "", false}};
        if (who == 2) return AuthOutcome{AuthStatus::Ok, {"admin", "Administrator", "", true}};
        return AuthOutcome{AuthStatus::Ok, {"admin", "Administrator", "", false}};
      });

  const Route& route = routes.routes()[route_index % routes.routes().size()];
  Request request;
  request.method = static_cast<HttpMethod>(method_byte % 8);
  request.path = (form & 2) ? "/redfish/v1/" + p1 : fillPattern(route.pattern, p1, p2, form);
  if (form & 1) request.path += "/";
  request.query = query;
  request.body = body;
  request.body_too_large = (setup & 0x20) && !body.empty() && (form & 0x80);
  request.remote_address = "198.18.0.100";
  if (!last_event_id.empty()) request.headers.emplace_back("Last-Event-ID", last_event_id);
  // A Last-Event-ID field starting with 'K' is also an Idempotency-Key (the rest of it).
  if (!last_event_id.empty() && last_event_id[0] == 'K')
    request.headers.emplace_back("Idempotency-Key", last_event_id.substr(1));

  Response res = dispatcher.handle(request);
  if (getenv("DUALSP_FUZZ_TRACE")) {
    fprintf(stderr, "%s %s ?%s (SP-%c, %s, board %d, %s spd) body: %s\n",
            std::string(methodName(request.method)).c_str(), request.path.c_str(), query.c_str(),
            spLetter(self), std::string(modeName(mode)).c_str(), board,
            hostile ? "hostile" : "well-behaved", body.c_str());
    for (const std::string& n : spd.names) fprintf(stderr, "  spd <- %s\n", n.c_str());
    fprintf(stderr, "  -> %d %s\n", res.status,
            res.body.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  }

  const std::optional<RouteMatch> match = routes.match(request.path, request.method);

  // The status, and what explains a 5xx.
  static const std::set<int> kStatuses = {200, 201, 204, 400, 401, 403, 404, 405,
                                          409, 412, 413, 422, 500, 501, 503, 507};
  FUZZ_EXPECT(kStatuses.count(res.status) == 1);
  if (res.status == 500) FUZZ_EXPECT(spd.saw_internal || hostile);
  if (res.status == 507) FUZZ_EXPECT(spd.saw_storage || hostile);
  if (res.status == 503)
    FUZZ_EXPECT(mode == ServeMode::Degraded || !board_readable || spd.saw_no_answer || hostile);

  // Headers.
  for (const auto& [name, value] : res.headers) FUZZ_EXPECT(headerSafe(name) && headerSafe(value));
  FUZZ_EXPECT(res.header("X-DualSP-SP") == std::string(1, spLetter(self)));
  FUZZ_EXPECT(res.header("OData-Version") == std::string("4.0"));
  const bool has_body = !res.body.is_null() || !res.text.empty();
  FUZZ_EXPECT(res.header("Content-Type").has_value() == (has_body || res.event_stream));

  // The body.
  if (res.status >= 400) {
    checkErrorBody(res);
    if (res.status == 405) FUZZ_EXPECT(res.header("Allow").has_value());
    if (res.status == 503) FUZZ_EXPECT(res.header("Retry-After").has_value());
  } else if (res.status == 204) {
    FUZZ_EXPECT(res.body.is_null());
  } else if (res.event_stream) {
    FUZZ_EXPECT(res.status == 200 && res.body.is_null());
  } else if (!res.text.empty()) {
    // Not JSON: $metadata (CSDL XML), and the web console's files (routes/console.cpp), which
    // carry their Content-Security-Policy.
    FUZZ_EXPECT(res.status == 200 && res.body.is_null() && match);
    const std::string& pattern = match->route->pattern;
    if (pattern == "/redfish/v1/$metadata") {
      FUZZ_EXPECT(res.text.rfind("<?xml", 0) == 0);
    } else {
      FUZZ_EXPECT(pattern == "/" || pattern == "/console/{File}");
      FUZZ_EXPECT(res.header("Content-Security-Policy").has_value());
    }
  } else if (match && match->route->pattern == "/redfish") {
    FUZZ_EXPECT(res.body.is_object() && res.body.contains("v1"));  // the version document
  } else if (match && match->route->pattern == "/redfish/v1/odata") {
    // The OData service document: no @odata.id, a "value" list of what the service holds.
    FUZZ_EXPECT(res.body.is_object() && res.body.contains("value") && res.body["value"].is_array());
  } else {
    FUZZ_EXPECT(res.body.is_object() && res.body.contains("@odata.id") &&
                res.body["@odata.id"].is_string());
    FUZZ_EXPECT(res.body["@odata.id"].get<std::string>().rfind("/redfish", 0) == 0);
    if (res.status == 201)
      FUZZ_EXPECT(res.header("Location") == res.body["@odata.id"].get<std::string>());
  }
  const std::string replaced = res.body.dump(-1, ' ', false, Json::error_handler_t::replace);
  const bool clean_input = validUtf8(request.path) && validUtf8(query) &&
                           validUtf8(last_event_id) && validUtf8(body) && validUtf8(fault_text);
  if (clean_input) {
    try {
      (void)res.body.dump();  // strict
    } catch (const Json::type_error& e) {
      fprintf(stderr, "request_handlers_fuzz: invalid UTF-8 in the body: %s\n", e.what());
      FUZZ_EXPECT(false);
    }
  }

  // What reached spd.
  const bool refused_early = !match || !match->route->methods.contains(request.method) ||
                             !servedInMode(*match, mode, self) || request.body_too_large ||
                             res.status == 401 || res.status == 412 || res.status == 501;
  if (refused_early) FUZZ_EXPECT(spd.names.empty());
  bool wrote = false;
  for (const std::string& name : spd.names) wrote = wrote || isWrite(name);
  if (request.method == HttpMethod::Get || request.method == HttpMethod::Head) FUZZ_EXPECT(!wrote);
  if (!refused_early &&
      (request.method == HttpMethod::Patch || request.method == HttpMethod::Post)) {
    const Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    const bool blank = body.find_first_not_of(" \t\r\n") == std::string::npos;
    const bool action = request.path.find("/Actions/") != std::string::npos;
    if (!parsed.is_object() && !(blank && action)) {
      FUZZ_EXPECT(!wrote);
      if (!hostile)
        FUZZ_EXPECT(res.status == 400 || res.status == 401 || res.status == 403 ||
                    res.status == 404 || res.status == 412 || res.status == 501 ||
                    res.status == 503);
    }
  }
  return 0;
}

namespace {

void writeSeeds(const std::string& dir) {
  const RouteTable routes = buildRouteTable();
  auto index = [&](const std::string& pattern, HttpMethod m) {
    for (size_t i = 0; i < routes.routes().size(); ++i)
      if (routes.routes()[i].pattern == pattern && routes.routes()[i].methods.contains(m))
        return static_cast<uint8_t>(i);
    return uint8_t{0};
  };
  auto field = [](const std::string& s) { return std::string(1, static_cast<char>(s.size())) + s; };
  // setup, route, method, form, p1, p2, query, Last-Event-ID, fault text, script, body
  auto seed = [&](uint8_t setup, const std::string& pattern, HttpMethod m, const std::string& p1,
                  const std::string& p2, const std::string& query, const std::string& script,
                  const std::string& body) {
    return std::string(1, static_cast<char>(setup)) + static_cast<char>(index(pattern, m)) +
           static_cast<char>(m) + '\0' + field(p1) + field(p2) + field(query) + field("") +
           field("fan 3 stopped") + field(script) + body;
  };
  const std::string mgr = "/redfish/v1/Managers/{ManagerId}";
  const std::string ok("\0", 1);
  std::vector<std::string> seeds = {
      seed(0x04, "/redfish/v1", HttpMethod::Get, "", "", "", ok, ""),
      seed(0x04, mgr, HttpMethod::Get, "SPA", "", "", ok, ""),
      seed(0x04, mgr, HttpMethod::Get, "SPB", "", "", std::string("\x40\x0b", 2), ""),
      seed(0x04, mgr, HttpMethod::Patch, "SPA", "", "", ok,
           R"({"ServiceIdentification":"top rack"})"),
      seed(0x04, mgr, HttpMethod::Patch, "SPB", "", "", ok, R"({"ServiceIdentification":5})"),
      seed(0x04, mgr + "/Actions/Manager.Reset", HttpMethod::Post, "SPA", "", "", ok,
           R"({"ResetType":"GracefulRestart"})"),
      seed(0x04, mgr + "/Actions/Manager.ForceFailover", HttpMethod::Post, "SPA", "", "", ok,
           R"({"NewManager":{"@odata.id":"/redfish/v1/Managers/SPB"}})"),
      seed(
          0x04, mgr + "/EthernetInterfaces/{EthernetInterfaceId}", HttpMethod::Patch, "SPA",
          "Floating", "", ok,
          R"({"IPv4StaticAddresses":[{"Address":"198.18.0.20","SubnetMask":"255.255.255.0","Gateway":"198.18.0.1"}]})"),
      seed(0x04, mgr + "/LogServices/Log/Entries", HttpMethod::Get, "SPA", "", "$top=3", ok, ""),
      seed(0x04, mgr + "/LogServices/Log/Entries/{EntryId}", HttpMethod::Get, "SPA", "1499", "", ok,
           ""),
      seed(0x04, mgr + "/LogServices/Events/Entries", HttpMethod::Get, "SPB", "", "$skip=1&$top=1",
           ok, ""),
      seed(0x04, mgr + "/LogServices/Events/Entries/{EntryId}", HttpMethod::Get, "SPA", "2", "", ok,
           ""),
      seed(0x04, "/redfish/v1/Chassis/{ChassisId}", HttpMethod::Patch, "Enclosure", "", "", ok,
           R"({"AssetTag":"R7-12","Location":{"Placement":{"Rack":"R7","Row":"3"}}})"),
      seed(0x04, "/redfish/v1/Chassis/{ChassisId}/ThermalSubsystem/Fans/{FanId}", HttpMethod::Get,
           "Enclosure", "SPB_Fan1", "", ok, ""),
      seed(0x04, "/redfish/v1/Chassis/{ChassisId}/Sensors/{SensorId}", HttpMethod::Get, "Enclosure",
           "SPA_CPU0Temp", "", ok, ""),
      seed(0x04, "/redfish/v1/EventService/Subscriptions", HttpMethod::Post, "", "", "", ok,
           R"({"Destination":"http://198.18.0.100:8080/e","Protocol":"Redfish","Context":"c"})"),
      seed(0x04, "/redfish/v1/EventService/Subscriptions/{EventDestinationId}", HttpMethod::Delete,
           "2", "", "", ok, ""),
      seed(0x04, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", HttpMethod::Post,
           "", "", "", ok,
           R"({"MessageId":"ResourceEvent.1.4.3.TestMessage","MessageArgs":["a"],)"
           R"("MessageSeverity":"Warning","OriginOfCondition":"/redfish/v1/EventService"})"),
      seed(0x04, "/redfish/v1/TelemetryService/MetricReports/{MetricReportId}", HttpMethod::Get,
           "SPB", "", "", ok, ""),
      seed(0x05, "/redfish/v1/TelemetryService/MetricReports/{MetricReportId}", HttpMethod::Get,
           "SPA", "", "", std::string("\x0b", 1), ""),  // SP-A's report on SP-B: the peer silent
      seed(0x06, mgr, HttpMethod::Get, "SPA", "", "", ok, ""),  // degraded
      seed(0xc4, "/redfish/v1/Managers", HttpMethod::Get, "", "", "", ok, ""),
      seed(0x14, mgr, HttpMethod::Get, "SPA", "", "", std::string("\x04\x08\x00\x20\x01", 5),
           ""),  // hostile
      seed(0x04, mgr, HttpMethod::Patch, "SPA", "", "", std::string("\x0d", 1),
           R"({"ServiceIdentification":"x"})"),
      // The generic query parameters (webserver/query.hpp): expansion through internal GETs,
      // filters, selects and pages, on a collection, a resource and a log that pages itself.
      seed(0x04, "/redfish/v1/Managers", HttpMethod::Get, "", "",
           "$expand=*($levels=3)&$select=Id,Status/Health", ok, ""),
      seed(0x04, "/redfish/v1/Managers", HttpMethod::Get, "", "",
           "$filter=Id eq 'SPB' or not (Status/Health ne 'OK')&$top=1&$skip=0", ok, ""),
      seed(0x04, "/redfish/v1", HttpMethod::Get, "", "", "$expand=.($levels=2)", ok, ""),
      seed(0x04, mgr + "/LogServices/Events/Entries", HttpMethod::Get, "SPA", "",
           "$filter=Severity eq 'OK'&$top=2&$expand=~", ok, ""),
      seed(0x04, "/redfish/v1/Storage/Array/Volumes", HttpMethod::Get, "", "",
           "$expand=.&$filter=CapacityBytes gt 1000000 and Oem/DualSP/CurrentOwner eq 'SPA'", ok,
           ""),
  };
  for (size_t i = 0; i < seeds.size(); ++i)
    std::ofstream(dir + "/seed-" + std::to_string(i), std::ios::binary) << seeds[i];
}

}  // namespace
