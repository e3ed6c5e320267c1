#include "sp/events.hpp"

#include <map>

#include "ipc/sp_id_proto.hpp"

namespace dualsp::sp {
namespace {

// Copied from ../shared/redfish/registries; tests/unit/sp/events_test.cpp checks each text
// against the registry file.
const std::map<std::string_view, std::string_view>& templates() {
  static const std::map<std::string_view, std::string_view> table{
      {message::kStateChanged, "The state of resource '%1' has changed to %2."},
      {message::kHealthOk, "The health of resource '%1' has changed to %2."},
      {message::kHealthWarning, "The health of resource '%1' has changed to %2."},
      {message::kHealthCritical, "The health of resource '%1' has changed to %2."},
      {message::kErrorsDetected, "The resource property %1 has detected errors of type '%2'."},
      {message::kErrorsCorrected, "The resource property %1 has corrected errors of type '%2'."},
      {message::kChanged, "One or more resource properties have changed."},
      {message::kInsufficientStorage,
       "Insufficient storage or memory available to complete the request."},
  };
  return table;
}

}  // namespace

std::string messageText(std::string_view message_id, const std::vector<std::string>& args) {
  auto it = templates().find(message_id);
  if (it == templates().end()) return "";
  std::string out;
  std::string_view t = it->second;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '%' && i + 1 < t.size() && t[i + 1] >= '1' && t[i + 1] <= '9') {
      size_t n = static_cast<size_t>(t[i + 1] - '1');
      if (n >= args.size()) return "";  // not enough arguments: the caller's detail says it
      out += args[n];
      ++i;
    } else {
      out += t[i];
    }
  }
  return out;
}

proto::Event makeEvent(std::string_view message_id, std::vector<std::string> args,
                       std::string origin, std::string_view severity, SpId reported_by,
                       const std::string& detail) {
  proto::Event e;
  e.set_message_id(std::string(message_id));
  std::string text = messageText(message_id, args);
  if (!detail.empty()) text += (text.empty() ? "" : " ") + detail;
  e.set_message(text);
  for (auto& a : args) e.add_args(std::move(a));
  e.set_origin(std::move(origin));
  e.set_severity(std::string(severity));
  e.set_reported_by(ipc::toProto(reported_by));
  return e;
}

std::string managerUri(SpId sp) {
  return std::string("/redfish/v1/Managers/SP") + spLetter(sp);
}

}  // namespace dualsp::sp
