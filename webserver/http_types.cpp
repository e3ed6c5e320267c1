#include "webserver/http_types.hpp"

#include <strings.h>

#include <array>

namespace dualsp::web {
namespace {

constexpr std::array<std::pair<HttpMethod, std::string_view>, 7> kMethodNames{{
    {HttpMethod::Get, "GET"},
    {HttpMethod::Head, "HEAD"},
    {HttpMethod::Post, "POST"},
    {HttpMethod::Put, "PUT"},
    {HttpMethod::Patch, "PATCH"},
    {HttpMethod::Delete, "DELETE"},
    {HttpMethod::Options, "OPTIONS"},
}};

}  // namespace

std::string_view methodName(HttpMethod method) {
  for (const auto& [m, name] : kMethodNames)
    if (m == method) return name;
  return "?";
}

std::optional<HttpMethod> parseMethod(std::string_view name) {
  for (const auto& [m, known] : kMethodNames)
    if (known == name) return m;  // HTTP methods are case-sensitive (RFC 9110 9.1)
  return std::nullopt;
}

std::string MethodSet::toString() const {
  std::string out;
  for (const auto& [m, name] : kMethodNames) {
    if (!contains(m)) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return std::nullopt;
}

}  // namespace dualsp::web
