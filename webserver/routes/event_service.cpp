// /redfish/v1/EventService: the array's events (the replicated event log, spd's
// sp/config_service.hpp) to clients: push subscriptions, records of the configuration store
// ("subscriptions/<id>") that spd delivers to (sp/event_delivery.hpp), and the Server-Sent
// Events stream, which web_server.cpp runs (webserver/sse_stream.hpp) once this file's handler
// has accepted the request.

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipc/event_destination.hpp"
#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_enums.hpp"
#include "webserver/redfish_format.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/routes/routes.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kEventServiceType = "#EventService.v1_12_0.EventService";
constexpr std::string_view kEventDestinationCollectionType =
    "#EventDestinationCollection.EventDestinationCollection";
constexpr std::string_view kEventDestinationType = "#EventDestination.v1_16_0.EventDestination";
constexpr std::string_view kSubscriptionPrefix = "subscriptions/";

// What spd's delivery does (sp/event_delivery.hpp): three retries, two seconds apart.
constexpr int kDeliveryRetryAttempts = 3;
constexpr int kDeliveryRetryIntervalSeconds = 2;
// The registries the array's events come from.
constexpr std::array<std::string_view, 5> kRegistryPrefixes{
    "Base", "ResourceEvent", "Environmental", "ManagerEvent", "HeartbeatEvent"};
// Each subscription is a request spd makes for every event it wants, and spd delivers to
// each apart from the others (sp/event_delivery.hpp): a few listeners, not a fan-out service.
constexpr size_t kMaxSubscriptions = 16;
// EventDestination.Context: the schema sets no limit; 256 bytes travel in every event.
constexpr size_t kMaxContextLength = 256;

// The members a subscription takes in a POST, and keeps.
constexpr std::string_view kDestination = "Destination";
constexpr std::string_view kProtocol = "Protocol";
constexpr std::string_view kContext = "Context";
constexpr std::string_view kEventFormatType = "EventFormatType";
constexpr std::string_view kRegistryPrefixesMember = "RegistryPrefixes";
constexpr std::string_view kMessageIds = "MessageIds";
constexpr std::string_view kVerifyCertificate = "VerifyCertificate";
constexpr std::string_view kRedfishProtocol = "Redfish";  // EventDestinationProtocol
constexpr std::string_view kEventFormat = "Event";        // EventFormatType

std::string subscriptionPath(const std::string& id) {
  return std::string(kSubscriptionsPath) + "/" + id;
}

// Subscription ids are spd's sequence numbers: "2" before "10".
bool idBefore(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

bool isStringArray(const Json& value) {
  return value.is_array() &&
         std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_string(); });
}

// The Destination a subscription may have (ipc/event_destination.hpp): spd makes requests
// there on the client's behalf. False with the error set: 400 PropertyValueFormatError for a
// URL spd cannot use, PropertyValueOutOfRange for an address it must not send to.
bool destinationAccepted(const std::string& url, const ipc::DestinationPolicy& policy,
                         Response& res) {
  std::string why;
  if (!ipc::parseHttpDestination(url, why)) {
    messages::propertyValueFormatError(res, valueText(url), kDestination);
    return false;
  }
  if (!ipc::checkDestination(url, policy, why)) {
    LOG_NOTICE << "subscription to " << valueText(url) << " refused: " << why;
    messages::propertyValueOutOfRange(res, valueText(url), kDestination);
    return false;
  }
  return true;
}

// A POST body for a new subscription; the record to store, or nullopt with the error set.
std::optional<Json> subscriptionAccepted(const Json& body, const ipc::DestinationPolicy& policy,
                                         Response& res) {
  Json record = Json::object();
  for (const auto& [key, value] : body.items()) {
    if (key == kDestination) {
      if (!value.is_string()) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
      if (!destinationAccepted(value.get<std::string>(), policy, res)) return std::nullopt;
    } else if (key == kProtocol) {
      if (!value.is_string()) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
      if (value.get<std::string>() != kRedfishProtocol) {
        messages::propertyValueNotInList(res, valueText(value), key);
        return std::nullopt;
      }
    } else if (key == kContext) {
      if (!value.is_string()) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
      if (value.get<std::string>().size() > kMaxContextLength) {
        messages::stringValueTooLong(res, valueText(value), kMaxContextLength);
        return std::nullopt;
      }
    } else if (key == kEventFormatType) {
      if (!value.is_string()) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
      if (value.get<std::string>() != kEventFormat) {
        messages::propertyValueNotInList(res, valueText(value), key);
        return std::nullopt;
      }
    } else if (key == kVerifyCertificate) {
      if (!value.is_boolean()) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
    } else if (key == kRegistryPrefixesMember || key == kMessageIds) {
      if (!isStringArray(value)) {
        messages::propertyValueTypeError(res, valueText(value), key);
        return std::nullopt;
      }
    } else {
      messages::propertyUnknown(res, key);
      return std::nullopt;
    }
    record[key] = value;
  }
  for (std::string_view required : {kDestination, kProtocol}) {
    if (!record.contains(required)) {
      messages::propertyMissing(res, required);
      return std::nullopt;
    }
  }
  return record;
}

// An EventDestination from its stored record.
Json subscriptionBody(const std::string& id, const Json& record) {
  Json body = {
      {"@odata.id", subscriptionPath(id)},
      {"@odata.type", kEventDestinationType},
      {"Id", id},
      {"Name", "Event subscription " + id},
      {"Destination", record.value(std::string(kDestination), "")},
      {"Protocol", record.value(std::string(kProtocol), std::string(kRedfishProtocol))},
      {"Context", record.value(std::string(kContext), "")},
      {"EventFormatType", record.value(std::string(kEventFormatType), std::string(kEventFormat))},
      {"SubscriptionType", "RedfishEvent"},
  };
  body["RegistryPrefixes"] = record.value(std::string(kRegistryPrefixesMember), Json::array());
  body["MessageIds"] = record.value(std::string(kMessageIds), Json::array());
  // Redfish: false when not given. spd verifies an https destination's certificate against
  // the SP's trust store when true (docs/EVENTS.md "Push delivery").
  body["VerifyCertificate"] = record.value(std::string(kVerifyCertificate), false);
  body["Status"] = {{"State", ResourceState::Enabled}};
  return body;
}

void handleEventServiceGet(const RequestContext& ctx, Response& res) {
  Json prefixes = Json::array();
  for (std::string_view p : kRegistryPrefixes) prefixes.push_back(p);
  res.body = {
      {"@odata.id", kEventServicePath},
      {"@odata.type", kEventServiceType},
      {"Id", "EventService"},
      {"Name", "Event Service"},
      {"ServiceEnabled", true},
      {"DeliveryRetryAttempts", kDeliveryRetryAttempts},
      {"DeliveryRetryIntervalSeconds", kDeliveryRetryIntervalSeconds},
      {"EventFormatTypes", {kEventFormat}},
      {"RegistryPrefixes", std::move(prefixes)},
  };
  // Degraded: links only to what the rescue subset serves; the stream is not part of it.
  if (ctx.config.mode == ServeMode::Full) res.body["ServerSentEventUri"] = kEventStreamPath;
  res.body["Subscriptions"] = odataLink(std::string(kSubscriptionsPath));
  res.body["Status"] = {{"State", ResourceState::Enabled}, {"Health", HealthState::OK}};
}

void handleSubscriptionCollectionGet(const RequestContext& ctx, Response& res) {
  std::optional<std::map<std::string, Json>> config =
      readConfig(ctx, kSubscriptionPrefix, res, "EventService", "Subscriptions");
  if (!config) return;
  std::vector<std::string> ids;
  for (const auto& [key, value] : *config) ids.push_back(key.substr(kSubscriptionPrefix.size()));
  std::sort(ids.begin(), ids.end(), idBefore);
  Json members = Json::array();
  for (const std::string& id : ids) members.push_back(odataLink(subscriptionPath(id)));
  res.body = {
      {"@odata.id", kSubscriptionsPath}, {"@odata.type", kEventDestinationCollectionType},
      {"Name", "Event subscriptions"},   {"Members@odata.count", members.size()},
      {"Members", std::move(members)},
  };
}

void handleSubscriptionPost(const RequestContext& ctx, Response& res) {
  std::optional<Json> body = jsonObjectBody(ctx.request, res);
  if (!body) return;
  std::optional<Json> record = subscriptionAccepted(*body, ctx.config.destinations, res);
  if (!record) return;
  std::optional<std::map<std::string, Json>> existing =
      readConfig(ctx, kSubscriptionPrefix, res, "EventService", "Subscriptions");
  if (!existing) return;
  if (existing->size() >= kMaxSubscriptions) {
    messages::createLimitReachedForResource(res);
    return;
  }
  ConfigChange change;
  change.create_prefix = std::string(kSubscriptionPrefix);
  change.kind = ChangeKind::Created;
  change.origin = std::string(kSubscriptionsPath);
  change.detail = "Destination = '" + valueText((*record)[kDestination]) + "'";
  change.puts.emplace_back("", *record);
  std::optional<proto::ConfigWriteAnswer> answer =
      writeConfig(ctx, change, res, "EventService", "Subscriptions");
  if (!answer) return;
  if (answer->keys_size() != 1 || answer->keys(0).rfind(kSubscriptionPrefix, 0) != 0 ||
      answer->keys(0).size() == kSubscriptionPrefix.size()) {
    LOG_ERROR << kConfigWrite << " created no subscription key";
    messages::internalError(res);
    return;
  }
  const std::string id = answer->keys(0).substr(kSubscriptionPrefix.size());
  res.status = 201;
  res.addHeader("Location", subscriptionPath(id));
  res.body = subscriptionBody(id, *record);
}

void handleSubscriptionGet(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  const std::string key = std::string(kSubscriptionPrefix) + id;
  std::optional<std::map<std::string, Json>> config =
      readConfig(ctx, key, res, "EventDestination", id);
  if (!config) return;
  auto it = config->find(key);
  if (it == config->end() || !it->second.is_object()) {
    messages::resourceNotFound(res, "EventDestination", id);
    return;
  }
  res.body = subscriptionBody(id, it->second);
}

void handleSubscriptionDelete(const RequestContext& ctx, Response& res) {
  const std::string& id = ctx.params.at(0);
  ConfigChange change;
  change.kind = ChangeKind::Removed;
  change.origin = subscriptionPath(id);
  change.removals.push_back(std::string(kSubscriptionPrefix) + id);
  if (!writeConfig(ctx, change, res, "EventDestination", id)) return;
  res.status = 204;
  res.body = nullptr;
}

// SSE (DSP0266 "Server-sent events"): the stream itself is web_server.cpp's; the request is
// checked here like any other (route, method, mode) and then handed over.
void handleEventStreamGet(const RequestContext& ctx, Response& res) {
  EventStreamStart start;
  // An EventSource resends the last id it saw: start after it. Anything but a number is
  // ignored (then only new events), as a browser would send only what it was sent.
  if (std::optional<std::string> last = ctx.request.header("Last-Event-ID")) {
    uint64_t id = 0;
    auto [stop, ec] = std::from_chars(last->data(), last->data() + last->size(), id);
    if (!last->empty() && ec == std::errc() && stop == last->data() + last->size())
      start.last_event_id = id;
  }
  res.status = 200;
  res.body = nullptr;
  res.event_stream = start;
  res.addHeader("Content-Type", "text/event-stream");
  res.addHeader("Cache-Control", "no-cache");
}

}  // namespace

void requestRoutesEventService(RouteTable& routes) {
  routes.add({.pattern = std::string(kEventServicePath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::None,
              .handler = handleEventServiceGet});
  routes.add({.pattern = std::string(kSubscriptionsPath),
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSubscriptionCollectionGet});
  routes.add({.pattern = std::string(kSubscriptionsPath),
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleSubscriptionPost});
  const std::string one = std::string(kSubscriptionsPath) + "/{EventDestinationId}";
  routes.add({.pattern = one,
              .methods = {HttpMethod::Get, HttpMethod::Head},
              .privilege = Privilege::Login,
              .degraded = DegradedService::Yes,
              .source = DataSource::LocalBus,
              .handler = handleSubscriptionGet});
  routes.add({.pattern = one,
              .methods = {HttpMethod::Delete},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleSubscriptionDelete});
  routes.add({.pattern = std::string(kEventStreamPath),
              .methods = {HttpMethod::Get},
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleEventStreamGet,
              .generic_queries = false});
}

}  // namespace dualsp::web
