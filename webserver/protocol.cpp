#include "webserver/protocol.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "webserver/query.hpp"

namespace dualsp::web {
namespace {

// FNV-1a, 64 bits: stable across builds and SPs (both SPs, whichever holds the floating
// address, give a resource the same tag), and ETags need no more than telling versions apart.
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

void hashBytes(uint64_t& hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= kFnvPrime;
  }
}

template <typename T>
void hashRaw(uint64_t& hash, const T& value) {
  hashBytes(hash, std::string_view(reinterpret_cast<const char*>(&value), sizeof value));
}

// Length first: "ab","c" is not "a","bc".
void hashString(uint64_t& hash, std::string_view text) {
  hashRaw(hash, static_cast<uint64_t>(text.size()));
  hashBytes(hash, text);
}

// The value's type and content, walked rather than serialized (a Manager's tag costs a
// fraction of its serialization, and allocates nothing).
void hashValue(uint64_t& hash, const Json& value) {
  hashRaw(hash, static_cast<uint8_t>(value.type()));
  switch (value.type()) {
    case Json::value_t::object:
      hashRaw(hash, static_cast<uint64_t>(value.size()));
      for (auto it = value.begin(); it != value.end(); ++it) {
        hashString(hash, it.key());
        hashValue(hash, it.value());
      }
      break;
    case Json::value_t::array:
      hashRaw(hash, static_cast<uint64_t>(value.size()));
      for (const Json& item : value) hashValue(hash, item);
      break;
    case Json::value_t::string:
      hashString(hash, value.get_ref<const std::string&>());
      break;
    case Json::value_t::boolean:
      hashRaw(hash, static_cast<uint8_t>(value.get<bool>()));
      break;
    case Json::value_t::number_integer:
      hashRaw(hash, value.get<int64_t>());
      break;
    case Json::value_t::number_unsigned:
      hashRaw(hash, value.get<uint64_t>());
      break;
    case Json::value_t::number_float:
      hashRaw(hash, value.get<double>());
      break;
    default:  // null, binary, discarded: the type says it all
      break;
  }
}

// The members of a resource left out of its ETag (etagOf).
bool liveMember(std::string_view name) {
  return name == "Oem" || name == "DateTime";
}

std::string_view trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The opaque tag of an entity tag, without W/: what the weak comparison compares.
std::string_view opaqueTag(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

}  // namespace

bool odataVersionAccepted(const Request& request) {
  std::optional<std::string> version = request.header("OData-Version");
  return !version || trim(*version) == kODataVersion;
}

std::optional<std::string> unimplementedQueryParameter(
    const Request& request, std::span<const std::string_view> implemented) {
  for (const std::string& name : request.queryParameterNames()) {
    if (!name.starts_with('$')) continue;
    if (std::find(implemented.begin(), implemented.end(), name) == implemented.end()) return name;
  }
  return std::nullopt;
}

std::string etagOf(const Json& body) {
  uint64_t hash = kFnvOffset;
  if (body.is_object()) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      if (liveMember(it.key())) continue;
      hashString(hash, it.key());
      hashValue(hash, it.value());
    }
  } else {
    hashValue(hash, body);
  }
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return "W/\"" + std::string(text) + "\"";
}

bool anyEtag(std::string_view condition) {
  return trim(condition) == "*";
}

bool etagListMatches(std::string_view condition, std::string_view etag) {
  if (anyEtag(condition)) return true;
  while (!condition.empty()) {
    const size_t comma = condition.find(',');
    const std::string_view item = trim(condition.substr(0, comma));
    condition = comma == std::string_view::npos ? std::string_view() : condition.substr(comma + 1);
    if (!item.empty() && opaqueTag(item) == opaqueTag(etag)) return true;
  }
  return false;
}

std::string_view routedPath(const Request& request) {
  constexpr std::string_view kMembers = "/Members";
  std::string_view path = request.path;
  if (request.method != HttpMethod::Post || path.find("/Actions/") != std::string_view::npos)
    return path;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (!path.ends_with(kMembers) || path.size() == kMembers.size()) return request.path;
  return path.substr(0, path.size() - kMembers.size());
}

Json protocolFeaturesSupported() {
  return {
      {"ExcerptQuery", false},
      {"ExpandQuery",
       {{"ExpandAll", true},
        {"Levels", true},
        {"Links", true},
        {"NoLinks", true},
        {"MaxLevels", query::kMaxExpandLevels}}},
      {"FilterQuery", true},
      {"FilterQueryComparisonOperations", true},
      {"FilterQueryCompoundOperations", true},
      {"OnlyMemberQuery", false},
      {"SelectQuery", true},
      {"TopSkipQuery", true},
  };
}

std::optional<std::string> describedByLink(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  auto type = body.find("@odata.type");
  if (type == body.end() || !type->is_string()) return std::nullopt;
  std::string_view name = type->get_ref<const std::string&>();
  if (!name.starts_with('#')) return std::nullopt;
  name.remove_prefix(1);
  const size_t last = name.rfind('.');  // "#Manager.v1_19_0.Manager": the namespace before it
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  return "<https://redfish.dmtf.org/schemas/v1/" + std::string(name.substr(0, last)) +
         ".json>; rel=describedby";
}

}  // namespace dualsp::web
