#pragma once
// The HTTP request and response as handlers see them: plain data, no CivetWeb types, so the
// route logic can be tested without a socket (docs/DESIGN.md "Modules").

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "webserver/json.hpp"

namespace dualsp::web {

// Other: a method spweb does not know; no route accepts it (405).
enum class HttpMethod : uint8_t { Get, Head, Post, Put, Patch, Delete, Options, Other };

std::string_view methodName(HttpMethod method);
std::optional<HttpMethod> parseMethod(std::string_view name);

// A set of methods, as a route declares them.
class MethodSet {
 public:
  constexpr MethodSet() = default;
  constexpr MethodSet(std::initializer_list<HttpMethod> methods) {
    for (HttpMethod m : methods) bits_ |= bit(m);
  }
  constexpr bool contains(HttpMethod m) const { return (bits_ & bit(m)) != 0; }
  constexpr bool overlaps(const MethodSet& other) const { return (bits_ & other.bits_) != 0; }
  constexpr MethodSet& operator|=(const MethodSet& other) {
    bits_ |= other.bits_;
    return *this;
  }
  // "GET, HEAD": the form of an Allow header.
  std::string toString() const;

 private:
  static constexpr uint16_t bit(HttpMethod m) { return uint16_t(1u << static_cast<unsigned>(m)); }
  uint16_t bits_ = 0;
};

// The most spweb reads of a request body: actions take a few parameters, never a file.
inline constexpr size_t kMaxRequestBodyBytes = 16 * 1024;

struct Request {
  HttpMethod method = HttpMethod::Get;
  std::string path;             // decoded, without the query string
  std::string query;            // as sent, without '?': "$top=50"
  std::string body;             // at most kMaxRequestBodyBytes
  bool body_too_large = false;  // the client sent more than kMaxRequestBodyBytes (413)
  std::string remote_address;   // the client's IP address: "198.18.0.100"
  std::vector<std::pair<std::string, std::string>> headers;  // as sent ("Last-Event-ID", "7")

  // The decoded value of the first query parameter `name` ("$top"), or nullopt.
  std::optional<std::string> queryParameter(std::string_view name) const;
  // The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  // The decoded names of the query parameters, in order ("$top", "only").
  std::vector<std::string> queryParameterNames() const;
};

// A query string component decoded (application/x-www-form-urlencoded: percent-encoding, '+'
// for space): a client may send "%24top" for "$top".
std::string urlDecode(std::string_view text);

// A response that is a stream of Server-Sent Events instead of a body (GET
// /redfish/v1/EventService/SSE): web_server.cpp sends the headers, then runs the stream
// (webserver/sse_stream.hpp) until the client goes or the server stops.
struct EventStreamStart {
  // The client's Last-Event-ID: stream every event after it. None: only events newer than
  // the log's newest when the stream starts.
  std::optional<uint64_t> last_event_id;
};

struct Response {
  int status = 200;
  Json body;  // null: no body, or `text`
  // A body that is not JSON ($metadata's XML), sent as it is when `body` is null; setText
  // gives it its Content-Type.
  std::string text;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<EventStreamStart> event_stream;  // set: stream events, `body` is unused

  void addHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  // The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  void setText(std::string content_type, std::string content) {
    body = nullptr;
    text = std::move(content);
    addHeader("Content-Type", std::move(content_type));
  }
  // The bytes of the body as sent: `body` serialized (compact), else `text`.
  std::string serializedBody() const;
};

}  // namespace dualsp::web
