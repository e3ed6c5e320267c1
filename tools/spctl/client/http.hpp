#pragma once
// One HTTP exchange with the array on libcurl (docs/SPCTL.md "TLS"): HTTPS verified against
// the system's CAs or a given CA file by default, or against a pinned certificate
// fingerprint; the outcome classified for the retry decision (retry.hpp).

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/spctl/client/retry.hpp"

namespace dualsp::spctl {

struct TlsOptions {
  bool verify = true;      // false: --insecure
  std::string ca_file;     // --cacert
  std::string pin_sha256;  // --pin: the certificate's SHA-256, 64 lowercase hex digits
};

// "sha256:AB:CD:..." / "AB:CD..." / "abcd..." as 64 lowercase hex digits; "" if malformed.
std::string normalisePin(const std::string& text);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Millis timeout{10000};
  Millis connect_timeout{2000};
};

struct HttpResponse {
  Outcome::Kind kind = Outcome::Kind::Answered;
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;      // what went wrong, when not Answered
  std::string peer_cert;  // the fingerprint the server showed when the pin did not match
  std::string header(const std::string& lower_name) const;
};

HttpResponse perform(const HttpRequest& request, const TlsOptions& tls);

// A long-lived GET (Server-Sent Events): on_bytes gets the body as it arrives and returns
// false to stop; the exchange ends when no byte arrived for `idle` (a dead connection), or
// keep_going() turns false (checked every 100 ms or so).
HttpResponse stream(const HttpRequest& request, const TlsOptions& tls, Millis idle,
                    const std::function<bool(std::string_view)>& on_bytes,
                    const std::function<bool()>& keep_going);

}  // namespace dualsp::spctl
