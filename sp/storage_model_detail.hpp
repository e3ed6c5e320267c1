#pragma once
// Helpers shared by sp/storage_model.cpp (pools, volumes) and sp/storage_access.cpp (ports,
// hosts, mappings): how a refusal, a record and a field check are spelled. Internal.

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>

#include "sp/storage_model.hpp"

namespace dualsp::sp::storage::detail {

using json = nlohmann::json;

inline bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline uint64_t numericId(const std::string& id) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  return ec == std::errc() && end == id.data() + id.size() ? n : 0;
}

// Numeric ids in numeric order ("2" before "10").
inline bool idBefore(const std::string& a, const std::string& b) {
  return a.size() != b.size() ? a.size() < b.size() : a < b;
}

inline Refusal refuse(int status, std::string message, std::vector<std::string> args,
                      std::string detail) {
  return {status, std::move(message), std::move(args), std::move(detail)};
}

inline Outcome refused(Refusal r) {
  return {std::nullopt, std::move(r)};
}

// A JSON value as a client would recognise it in an error message.
inline std::string text(const json& v) {
  return v.is_string() ? v.get<std::string>()
                       : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

inline proto::ConfigRecord put(std::string key, const json& value) {
  proto::ConfigRecord r;
  r.set_key(std::move(key));
  r.set_value(value.dump(-1, ' ', false, json::error_handler_t::replace));
  return r;
}

inline proto::ConfigRecord removal(std::string key) {
  proto::ConfigRecord r;
  r.set_key(std::move(key));
  r.set_deleted(true);
  return r;
}

// Name: a string of 1..kMaxNameLength bytes.
inline std::optional<Refusal> checkName(const json& body, const char* key = "Name") {
  if (!body.contains(key)) return std::nullopt;
  const json& v = body[key];
  if (!v.is_string()) return refuse(400, "PropertyValueTypeError", {text(v), key}, "not a string");
  const std::string s = v.get<std::string>();
  if (s.empty()) return refuse(400, "PropertyValueOutOfRange", {s, key}, "empty");
  if (s.size() > kMaxNameLength)
    return refuse(400, "StringValueTooLong", {s.substr(0, 32), std::to_string(kMaxNameLength)},
                  "too long");
  return std::nullopt;
}

inline std::optional<Refusal> unknownKeys(const json& body,
                                          std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body.items())
    if (std::find(known.begin(), known.end(), key) == known.end())
      return refuse(400, "PropertyUnknown", {key}, "not a property this takes");
  return std::nullopt;
}

inline std::optional<Refusal> notAnObject(const json& body) {
  if (body.is_object()) return std::nullopt;
  return refuse(400, "MalformedJSON", {}, "the body is not a JSON object");
}

// storage_access.cpp: ports, initiators, hosts, mappings and the policy from the records,
// into `m` (its pools and volumes already built).
void buildAccess(Model& m, const std::vector<proto::ConfigRecord>& records,
                 std::vector<std::string>* problems);

}  // namespace dualsp::sp::storage::detail
