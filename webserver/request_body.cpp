#include "webserver/request_body.hpp"

#include <utility>
#include <vector>

#include "platform/log.hpp"
#include "platform/text.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web {
namespace {

std::string scalarText(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Compact JSON of `value`, stopping once `limit` bytes are written: an explicit stack of the
// containers being written instead of recursion (the value may come from anywhere).
std::string boundedDump(const Json& value, size_t limit) {
  std::string out;
  std::vector<std::pair<const Json*, Json::const_iterator>> open;
  auto begin = [&](const Json& v) {
    if (!v.is_structured()) {
      out += scalarText(v);
      return;
    }
    out += v.is_object() ? '{' : '[';
    open.emplace_back(&v, v.cbegin());
  };
  begin(value);
  while (!open.empty() && out.size() <= limit) {
    const Json& container = *open.back().first;
    Json::const_iterator& it = open.back().second;
    if (it == container.cend()) {
      out += container.is_object() ? '}' : ']';
      open.pop_back();
      continue;
    }
    if (it != container.cbegin()) out += ',';
    if (container.is_object()) out += scalarText(Json(it.key())) + ':';
    const Json& child = *it;
    ++it;  // before begin(): it may grow `open` and move the iterator held there
    begin(child);
  }
  return out;
}

}  // namespace

std::optional<Json> parseRequestJson(std::string_view body, BodyProblem& problem) {
  problem = BodyProblem::None;
  bool too_deep = false;
  // depth: the containers around the one starting; refusing it only drops it, so the flag
  // is what refuses the body.
  const Json::parser_callback_t watch_depth = [&too_deep](int depth, Json::parse_event_t event,
                                                          Json&) {
    const bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && depth >= kMaxRequestJsonDepth) too_deep = true;
    return !too_deep;
  };
  Json json = Json::parse(body, watch_depth, /*allow_exceptions=*/false);
  if (too_deep) {
    problem = BodyProblem::TooDeep;
    return std::nullopt;
  }
  if (json.is_discarded()) {
    problem = BodyProblem::Malformed;
    return std::nullopt;
  }
  return json;
}

std::optional<Json> jsonObjectBody(const Request& request, Response& res) {
  BodyProblem problem = BodyProblem::None;
  std::optional<Json> json = parseRequestJson(request.body, problem);
  if (problem == BodyProblem::TooDeep)
    LOG_NOTICE << methodName(request.method) << " " << request.path << " from "
               << request.remote_address << ": body nested deeper than " << kMaxRequestJsonDepth
               << " levels, refused";
  if (!json || !json->is_object()) {
    messages::malformedJson(res);
    return std::nullopt;
  }
  return json;
}

std::string jsonText(const Json& value) {
  return text::shortened(boundedDump(value, kMaxQuotedValueBytes), kMaxQuotedValueBytes);
}

std::string valueText(const Json& value) {
  if (value.is_string())
    return text::shortened(value.get_ref<const std::string&>(), kMaxQuotedValueBytes);
  return text::shortened(boundedDump(value, kMaxQuotedValueBytes), kMaxQuotedValueBytes);
}

}  // namespace dualsp::web
