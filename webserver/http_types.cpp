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

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// application/x-www-form-urlencoded decoding (RFC 3986 percent-encoding, '+' for space): a
// client may send "%24top" for "$top".
std::string urlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::optional<std::string> Request::queryParameter(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    if (urlDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string() : urlDecode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::vector<std::string> Request::queryParameterNames() const {
  std::vector<std::string> names;
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (!pair.empty()) names.push_back(urlDecode(pair.substr(0, pair.find('='))));
  }
  return names;
}

std::string Response::serializedBody() const {
  if (body.is_null()) return text;
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

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

namespace {

std::optional<std::string> findHeader(
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Request::header(std::string_view name) const {
  return findHeader(headers, name);
}

std::optional<std::string> Response::header(std::string_view name) const {
  return findHeader(headers, name);
}

}  // namespace dualsp::web
