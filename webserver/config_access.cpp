#include "webserver/config_access.hpp"

#include "platform/log.hpp"
#include "platform/redfish/generated/registries/resource_event.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web {
namespace {

namespace resource_event = redfish::registries::resource_event;

const redfish::MessageEntry& resourceEventOf(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::Created:
      return resource_event::entry(resource_event::Message::ResourceCreated);
    case ChangeKind::Removed:
      return resource_event::entry(resource_event::Message::ResourceRemoved);
    case ChangeKind::Changed:
      break;
  }
  return resource_event::entry(resource_event::Message::ResourceChanged);
}

// Sends `write` to spd (the array's store) and reads its answer; nullopt with the error set.
std::optional<proto::ConfigWriteAnswer> sendWrite(const RequestContext& ctx,
                                                  const proto::ConfigWrite& write, Response& res,
                                                  std::string_view resource_type,
                                                  std::string_view resource_id) {
  proto::Command command = makeArrayCommand(ctx, kConfigWrite);
  command.set_payload(write.SerializeAsString());
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (!commandSucceeded(result, res, resource_type, resource_id)) return std::nullopt;
  proto::ConfigWriteAnswer answer;
  if (!answer.ParseFromString(result->payload())) {
    LOG_ERROR << kConfigWrite << " of " << resource_type << " " << resource_id
              << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  return answer;
}

}  // namespace

std::optional<std::map<std::string, Json>> readConfig(const RequestContext& ctx,
                                                      std::string_view prefix, Response& res,
                                                      std::string_view resource_type,
                                                      std::string_view resource_id) {
  proto::Command command = makeArrayCommand(ctx, kGetConfig);
  (*command.mutable_args())["prefix"] = std::string(prefix);
  std::optional<proto::CommandResult> result = runCommand(ctx, command);
  if (!commandSucceeded(result, res, resource_type, resource_id)) return std::nullopt;
  proto::ConfigRecords records;
  if (!records.ParseFromString(result->payload())) {
    LOG_ERROR << kGetConfig << " " << prefix << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  std::map<std::string, Json> out;
  for (const proto::ConfigRecord& r : records.records()) {
    if (r.deleted()) continue;
    Json value = Json::parse(r.value(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
      LOG_WARNING << "configuration record " << r.key() << " is not JSON; ignored";
      continue;
    }
    out.emplace(r.key(), std::move(value));
  }
  return out;
}

proto::Event changeEvent(ChangeKind kind, const std::string& origin, const std::string& detail) {
  const redfish::MessageEntry& event = resourceEventOf(kind);
  proto::Event e;
  e.set_message_id(std::string(event.id));
  // The messages take no arguments: what changed goes into the text, for the event log.
  std::string message(event.text);
  if (!detail.empty()) message += " (" + detail + ")";
  e.set_message(std::move(message));
  e.set_severity("OK");
  e.set_origin(origin);
  return e;
}

std::optional<proto::ConfigWriteAnswer> writeConfig(const RequestContext& ctx,
                                                    const ConfigChange& change, Response& res,
                                                    std::string_view resource_type,
                                                    std::string_view resource_id) {
  proto::ConfigWrite write;
  for (const auto& [key, value] : change.puts) {
    proto::ConfigRecord* r = write.add_records();
    if (change.create_prefix.empty()) r->set_key(key);
    r->set_value(value.dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  for (const std::string& key : change.removals) {
    proto::ConfigRecord* r = write.add_records();
    r->set_key(key);
    r->set_deleted(true);
  }
  write.set_create_prefix(change.create_prefix);
  // The audit trail: every change's event says who made it and from where.
  std::string detail = change.detail;
  if (ctx.caller && !ctx.caller->user.empty())
    detail += (detail.empty() ? "" : "; ") + std::string("by ") + ctx.caller->user + " from " +
              ctx.request.remote_address;
  *write.mutable_event() = changeEvent(change.kind, change.origin, detail);
  return sendWrite(ctx, write, res, resource_type, resource_id);
}

bool recordEvent(const RequestContext& ctx, const proto::Event& event, Response& res,
                 std::string_view resource_type, std::string_view resource_id) {
  proto::ConfigWrite write;
  *write.mutable_event() = event;
  return sendWrite(ctx, write, res, resource_type, resource_id).has_value();
}

void answerChanged(const RequestContext& ctx, Response& res,
                   void (*read)(const RequestContext&, Response&)) {
  Response now;
  read(ctx, now);
  if (now.status >= 200 && now.status < 300) {
    res = std::move(now);
    return;
  }
  LOG_NOTICE << methodName(ctx.request.method) << " " << ctx.request.path
             << " was applied; reading the resource back answered " << now.status
             << ", so the answer is 204 without it";
  res = Response{};
  res.status = 204;
  res.body = nullptr;
}

}  // namespace dualsp::web
