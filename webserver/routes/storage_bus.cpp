#include "webserver/routes/storage_bus.hpp"

#include <vector>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"
#include "webserver/config_access.hpp"
#include "webserver/redfish_messages.hpp"
#include "webserver/request_read_cache.hpp"

namespace dualsp::web::storage_routes {
namespace {

constexpr std::string_view kStorageWrite = "StorageWrite";

// The property names of spd's refusals as the client wrote them.
std::string clientName(const std::string& name) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"RAIDType", "SupportedRAIDTypes"},
      {"Drives", "CapacitySources"},
      {"Pool", "CapacitySources"},
      {"DefaultOwner", "Oem/DualSP/DefaultOwner"},
      {"Group", "Links/InitiatorEndpointGroups"},
      {"Volume", "VolumeInfo/Volume"},
      {"LUN", "VolumeInfo/LUN"},
      {"ReadOnly", "VolumeInfo/AccessCapabilities"},
      {"Ports", "Links/TargetEndpoints"},
      {"Initiators", "Links/Endpoints"},
      {"Hosts", "Oem/DualSP/Hosts"},
      {"Kind", "Oem/DualSP/Kind"},
      {"Identifier", "Identifiers/DurableName"},
      {"Protocol", "EndpointProtocol"},
      {"AutoFailback", "Oem/DualSP/AutoFailback"},
      {"AutoFailbackDelaySeconds", "Oem/DualSP/AutoFailbackDelaySeconds"},
  };
  for (const auto& [ours, theirs] : kNames)
    if (name == ours) return std::string(theirs);
  return name;
}

// A model too large for one local-bus reply comes in parts (StorageService::getStorage):
// the rest is asked for by offset under the first part's tag, so every part is of one reading
// of the store. A new tag means the model changed meanwhile: the reading starts over from
// that answer, a few times at most.
constexpr int kMaxPartRequests = 128;  // 12 MiB at spd's 96 KiB parts
constexpr int kMaxPartRestarts = 4;

std::optional<Json> readParts(const RequestContext& ctx, proto::Command command, Json part,
                              Response& res, std::string_view type, std::string_view id) {
  std::string text, tag;
  int restarts = 0;
  for (int i = 0; i < kMaxPartRequests; ++i) {
    Json& p = part["part"];  // not const: a missing member reads as null
    if (!p.is_object() || !part["data"].is_string() || !p["tag"].is_string() ||
        !p["offset"].is_number_unsigned() || !p["total"].is_number_unsigned())
      break;
    const std::string& data = part["data"].get_ref<const std::string&>();
    const uint64_t offset = p["offset"].get<uint64_t>(), total = p["total"].get<uint64_t>();
    if (p["tag"] != tag) {
      if (offset != 0) break;
      if (!tag.empty() && ++restarts > kMaxPartRestarts) {
        LOG_WARNING << kGetStorage << ": the model changed during " << kMaxPartRestarts
                    << " readings in a row";
        messages::serviceTemporarilyUnavailable(res, 1);
        return std::nullopt;
      }
      tag = p["tag"].get<std::string>();
      text.clear();
    } else if (offset != text.size()) {
      break;
    }
    if (data.empty() || text.size() + data.size() > total) break;
    text += data;
    if (text.size() == total) {
      Json model = Json::parse(text, nullptr, false);
      if (!model.is_object() || model.contains("part")) break;
      return model;
    }
    auto& args = *command.mutable_args();
    args["tag"] = tag;
    args["offset"] = std::to_string(text.size());
    std::optional<proto::CommandResult> result = runCommand(ctx, command);
    if (!commandSucceeded(result, res, type, id)) return std::nullopt;
    part = Json::parse(result->payload(), nullptr, false);
    if (!part.is_object()) break;
  }
  LOG_ERROR << kGetStorage << " answered parts that do not make up a model";
  messages::internalError(res);
  return std::nullopt;
}

}  // namespace

std::string drivePath(const std::string& id) {
  return std::string(kDrivesPath) + "/" + id;
}
std::string poolPath(const std::string& id) {
  return std::string(kPoolsPath) + "/" + id;
}
std::string volumePath(const std::string& id) {
  return std::string(kVolumesPath) + "/" + id;
}
std::string controllerPath(const std::string& sp) {
  return std::string(kControllersPath) + "/SP" + sp;
}
std::string controllerPortPath(const std::string& sp, const std::string& port_id) {
  return controllerPath(sp) + "/Ports/" + port_id;
}
std::string fabricPath(const std::string& protocol) {
  return std::string(kFabricsPath) + "/" + protocol;
}
std::string endpointPath(const std::string& protocol, const std::string& id) {
  return fabricPath(protocol) + "/Endpoints/" + id;
}
std::string endpointGroupPath(const std::string& protocol, const std::string& id) {
  return fabricPath(protocol) + "/EndpointGroups/" + id;
}
std::string connectionPath(const std::string& protocol, const std::string& id) {
  return fabricPath(protocol) + "/Connections/" + id;
}

std::string spOf(const Json& owner) {
  return owner.is_string() ? "SP" + owner.get<std::string>() : std::string();
}

std::shared_ptr<const Json> readStorage(const RequestContext& ctx, Response& res,
                                        std::string_view type, std::string_view id) {
  proto::Command command = makeArrayCommand(ctx, kGetStorage);
  (*command.mutable_args())["parts"] = "1";
  JsonAnswer answer = runJsonCommand(ctx, command);
  if (!commandSucceeded(answer.result, res, type, id) || !answer.payload) return nullptr;
  std::shared_ptr<const Json> model = std::move(answer.payload);
  if (model->is_object() && model->contains("part")) {
    // The whole model is assembled once per request: the parts' tag names the reading.
    const Json& part = model->at("part");
    std::string key;
    if (ctx.reads && part.is_object() && part.contains("tag") && part.at("tag").is_string())
      key = std::string(kGetStorage) + " " + part.at("tag").get<std::string>();
    std::shared_ptr<const Json> whole = key.empty() ? nullptr : ctx.reads->derived(key);
    if (!whole) {
      std::optional<Json> read = readParts(ctx, command, *model, res, type, id);
      if (!read) return nullptr;
      whole = std::make_shared<const Json>(std::move(*read));
      if (!key.empty()) ctx.reads->remember(key, whole);
    }
    model = std::move(whole);
  }
  if (!model->is_object()) {
    LOG_ERROR << kGetStorage << " answered an unreadable payload";
    messages::internalError(res);
    return nullptr;
  }
  for (const char* list :
       {"drives", "pools", "volumes", "ports", "initiators", "hosts", "mappings"}) {
    auto it = model->find(list);
    if (it == model->end() || !it->is_array()) {
      LOG_ERROR << kGetStorage << " answered without its '" << list << "' list";
      messages::internalError(res);
      return nullptr;
    }
  }
  return model;
}

std::optional<Json> writeStorage(const RequestContext& ctx, std::string_view op,
                                 const std::string& id, const Json& body, Response& res,
                                 std::string_view type, std::string_view type_id) {
  proto::Command command = makeArrayCommand(ctx, kStorageWrite);
  auto& args = *command.mutable_args();
  args["op"] = std::string(op);
  args["id"] = id;
  args["body"] = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::optional<proto::CommandResult> result = runCommand(ctx, command, kConfigWriteTimeout);
  if (result && (result->status() == proto::CommandResult::BAD_REQUEST ||
                 result->status() == proto::CommandResult::NOT_FOUND)) {
    Json payload = Json::parse(result->payload(), nullptr, false);
    if (payload.is_object() && payload["refusal"].is_object()) {
      const Json& r = payload["refusal"];
      std::vector<std::string> margs;
      for (const Json& a : r.value("args", Json::array()))
        margs.push_back(clientName(a.is_string() ? a.get<std::string>() : a.dump()));
      if (messages::fromKey(res, r.value("status", 400), r.value("message", std::string()),
                            margs)) {
        // spd's reason after the registry's words: which drive, how much is free.
        if (r.contains("detail") && r["detail"].is_string())
          res.body["error"]["message"] = res.body["error"]["message"].get<std::string>() + " " +
                                         r["detail"].get<std::string>();
        return std::nullopt;
      }
      LOG_ERROR << kStorageWrite << " refused with an unknown message " << r.dump();
    }
  }
  if (!commandSucceeded(result, res, type, type_id)) return std::nullopt;
  Json out = Json::parse(result->payload(), nullptr, false);
  if (!out.is_object()) {
    LOG_ERROR << kStorageWrite << " answered an unreadable payload";
    messages::internalError(res);
    return std::nullopt;
  }
  return out;
}

const Json* findById(const Json& list, std::string_view id) {
  for (const Json& item : list)
    if (item.value("Id", std::string()) == id) return &item;
  return nullptr;
}

std::optional<std::string> memberOf(const Json& link, std::string_view collection) {
  if (!link.is_object() || !link.contains("@odata.id") || !link["@odata.id"].is_string())
    return std::nullopt;
  const std::string uri = link["@odata.id"].get<std::string>();
  const std::string prefix = std::string(collection) + "/";
  if (uri.rfind(prefix, 0) != 0 || uri.size() == prefix.size() ||
      uri.find('/', prefix.size()) != std::string::npos)
    return std::nullopt;
  return uri.substr(prefix.size());
}

Json statusOf(bool critical, bool warning, std::string_view state) {
  return {{"State", state}, {"Health", critical ? "Critical" : warning ? "Warning" : "OK"}};
}

}  // namespace dualsp::web::storage_routes
