// /redfish/v1/EventService: the array's events (the replicated event log, spd's
// sp/config_service.hpp) to clients: push subscriptions, records of the configuration store
// ("subscriptions/<id>") that spd delivers to (sp/event_delivery.hpp), and the Server-Sent
// Events stream, which web_server.cpp runs (webserver/sse_stream.hpp) once this file's handler
// has accepted the request.

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipc/event_destination.hpp"
#include "platform/log.hpp"
#include "platform/redfish/generated/registries/resource_event.hpp"
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

// EventService.SubmitTestEvent (EventService_v1.xml): a client's event, recorded in the array
// event log and delivered like any other (docs/EVENTS.md "Test events").
constexpr std::string_view kSubmitTestEventAction = "EventService.SubmitTestEvent";
constexpr std::string_view kSubmitTestEventPath =
    "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent";
constexpr std::string_view kMessageIdParameter = "MessageId";
constexpr std::string_view kMessageArgsParameter = "MessageArgs";
constexpr std::string_view kMessageParameter = "Message";
constexpr std::string_view kMessageSeverityParameter = "MessageSeverity";
constexpr std::string_view kSeverityParameter = "Severity";
constexpr std::string_view kOriginParameter = "OriginOfCondition";
// Taken and not kept: spd numbers and stamps every event of the array's log itself (the
// schema lets a service replace EventId), and the log has no event type or group.
constexpr std::array<std::string_view, 4> kIgnoredTestEventParameters{"EventId", "EventTimestamp",
                                                                      "EventType", "EventGroupId"};
// The severities an array event has (Resource.Health).
constexpr std::array<std::string_view, 3> kEventSeverities{"OK", "Warning", "Critical"};
// What one test event may carry: it is stored on both SPs for good (the log is never trimmed).
constexpr size_t kMaxTestEventText = 1024;
constexpr size_t kMaxTestEventArgs = 16;

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
  // Degraded: the action is not part of the rescue subset (nothing is recorded there).
  if (ctx.config.mode == ServeMode::Full) {
    Json severities = Json::array();
    for (std::string_view s : kEventSeverities) severities.push_back(s);
    res.body["Actions"] = {
        {"#" + std::string(kSubmitTestEventAction),
         {{"target", kSubmitTestEventPath},
          {std::string(kMessageSeverityParameter) + "@Redfish.AllowableValues", severities}}}};
  }
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

// A string parameter of SubmitTestEvent, at most kMaxTestEventText bytes; nullopt with the
// error set otherwise.
std::optional<std::string> testEventText(const Json& value, std::string_view parameter,
                                         Response& res) {
  if (!value.is_string()) {
    messages::actionParameterValueTypeError(res, jsonText(value), parameter,
                                            kSubmitTestEventAction);
    return std::nullopt;
  }
  std::string text = value.get<std::string>();
  if (text.size() > kMaxTestEventText) {
    messages::stringValueTooLong(res, valueText(value), kMaxTestEventText);
    return std::nullopt;
  }
  return text;
}

// The parameter's Validation.Pattern, ^\w+\.\d+\.\d+\.\w+$ (Registry.Major.Minor.Key), or
// with the registry's errata number too (Registry.Major.Minor.Errata.Key), as the array's own
// events carry them ("ResourceEvent.1.4.3.ResourceChanged"); without a regex engine in the
// firmware.
bool isMessageId(std::string_view id) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t dot = id.find('.', start);
    parts.push_back(id.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 4 && parts.size() != 5) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool number = i > 0 && i + 1 < parts.size();
    if (parts[i].empty() || !std::all_of(parts[i].begin(), parts[i].end(), number ? digit : word))
      return false;
  }
  return true;
}

bool isEventSeverity(const std::string& s) {
  return std::find(kEventSeverities.begin(), kEventSeverities.end(), s) != kEventSeverities.end();
}

// The SubmitTestEvent body (every parameter optional, EventService_v1.xml) as the event to
// record; nullopt with the error set on `res`. Defaults: ResourceEvent's TestMessage, severity
// OK, no arguments, no origin.
std::optional<proto::Event> testEventOfBody(const Request& request, Response& res) {
  const auto& test_message = redfish::registries::resource_event::entry(
      redfish::registries::resource_event::Message::TestMessage);
  proto::Event event;
  event.set_message_id(std::string(test_message.id));
  event.set_severity("OK");
  std::optional<std::string> message;
  std::optional<std::string> severity;
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    event.set_message(std::string(test_message.text));
    return event;
  }
  std::optional<Json> body = jsonObjectBody(request, res);
  if (!body) return std::nullopt;
  for (const auto& [key, value] : body->items()) {
    if (key == kMessageIdParameter) {
      std::optional<std::string> id = testEventText(value, key, res);
      if (!id) return std::nullopt;
      if (!isMessageId(*id)) {
        messages::actionParameterValueError(res, key, kSubmitTestEventAction);
        return std::nullopt;
      }
      event.set_message_id(*id);
    } else if (key == kMessageArgsParameter) {
      if (!isStringArray(value) || value.size() > kMaxTestEventArgs) {
        messages::actionParameterValueTypeError(res, jsonText(value), key, kSubmitTestEventAction);
        return std::nullopt;
      }
      for (const Json& arg : value) {
        std::optional<std::string> text = testEventText(arg, key, res);
        if (!text) return std::nullopt;
        event.add_args(*text);
      }
    } else if (key == kMessageParameter) {
      if (!(message = testEventText(value, key, res))) return std::nullopt;
    } else if (key == kMessageSeverityParameter || key == kSeverityParameter) {
      std::optional<std::string> s = testEventText(value, key, res);
      if (!s) return std::nullopt;
      if (!isEventSeverity(*s)) {
        messages::actionParameterValueNotInList(res, *s, key, kSubmitTestEventAction);
        return std::nullopt;
      }
      // MessageSeverity (the current parameter) wins over the older Severity.
      if (key == kMessageSeverityParameter || !severity) severity = *s;
    } else if (key == kOriginParameter) {
      std::optional<std::string> origin = testEventText(value, key, res);
      if (!origin) return std::nullopt;
      // A URI of this service: the log links to it (LogEntry Links.OriginOfCondition).
      if (origin->rfind("/redfish/v1", 0) != 0) {
        messages::actionParameterValueError(res, key, kSubmitTestEventAction);
        return std::nullopt;
      }
      event.set_origin(*origin);
    } else if (std::find(kIgnoredTestEventParameters.begin(), kIgnoredTestEventParameters.end(),
                         key) == kIgnoredTestEventParameters.end()) {
      messages::actionParameterNotSupported(res, key, kSubmitTestEventAction);
      return std::nullopt;
    }
  }
  if (severity) event.set_severity(*severity);
  event.set_message(message                                 ? *message
                    : event.message_id() == test_message.id ? std::string(test_message.text)
                                                            : "Test event.");
  return event;
}

// POST .../Actions/EventService.SubmitTestEvent: one event in the array's log (spd numbers it,
// both SPs hold it), so SSE followers and subscribers get it like any other.
void handleSubmitTestEventPost(const RequestContext& ctx, Response& res) {
  std::optional<proto::Event> event = testEventOfBody(ctx.request, res);
  if (!event) return;
  LOG_NOTICE << "test event " << event->message_id() << " submitted by "
             << (ctx.caller ? ctx.caller->user : std::string("?")) << " from "
             << ctx.request.remote_address;
  if (!recordEvent(ctx, *event, res, "EventService", "EventService")) return;
  res.status = 204;  // DSP0266: an action that returns no body
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
  routes.add({.pattern = std::string(kSubmitTestEventPath),
              .methods = {HttpMethod::Post},
              .privilege = Privilege::ConfigureManager,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleSubmitTestEventPost});
  routes.add({.pattern = std::string(kEventStreamPath),
              .methods = {HttpMethod::Get},
              .privilege = Privilege::Login,
              .degraded = DegradedService::No,
              .source = DataSource::LocalBus,
              .handler = handleEventStreamGet,
              .generic_queries = false});
}

}  // namespace dualsp::web
