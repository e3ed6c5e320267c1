#include "tools/spctl/client/http.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace dualsp::spctl {

std::string normalisePin(const std::string& text) {
  std::string t = text;
  if (t.rfind("sha256:", 0) == 0 || t.rfind("SHA256:", 0) == 0) t = t.substr(7);
  std::string hex;
  for (char ch : t) {
    if (ch == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return {};
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return hex.size() == 64 ? hex : std::string();
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

void globalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The pinned certificate check, in OpenSSL's verification of the server's chain: the leaf
// must have the pinned SHA-256, whatever signed it; nothing is sent to a server that fails.
struct PinCheck {
  std::string want;  // 64 hex
  std::string seen;  // the leaf's, once checked
  bool mismatch = false;
};

int pinIndex() {
  static int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string hexOf(const unsigned char* data, unsigned size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

int verifyPinned(int /*preverify_ok*/, X509_STORE_CTX* store) {
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* pin = static_cast<PinCheck*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pinIndex()));
  if (!pin) return 0;
  if (X509_STORE_CTX_get_error_depth(store) > 0) {
    // The issuers do not matter: the leaf (depth 0, judged last) is pinned.
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  if (!leaf || X509_digest(leaf, EVP_sha256(), md, &size) != 1) return 0;
  pin->seen = hexOf(md, size);
  if (pin->seen != pin->want) {
    pin->mismatch = true;
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

CURLcode sslContext(CURL*, void* ssl_ctx, void* user) {
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_ex_data(ctx, pinIndex(), user);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verifyPinned);
  return CURLE_OK;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) response->headers.clear();  // a new response (after 100)
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.pop_back();
    response->headers[name] = value;
  }
  return size * count;
}

struct Sink {
  HttpResponse* response = nullptr;
  const std::function<bool(std::string_view)>* on_bytes = nullptr;
  const std::function<bool()>* keep_going = nullptr;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->on_bytes) {
    if (!(*sink->on_bytes)(std::string_view(data, size * count))) return 0;
  } else {
    sink->response->body.append(data, size * count);
  }
  return size * count;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* sink = static_cast<Sink*>(user);
  return sink->keep_going && !(*sink->keep_going)() ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

HttpResponse run(const HttpRequest& request, const TlsOptions& tls, Millis idle,
                 const std::function<bool(std::string_view)>* on_bytes,
                 const std::function<bool()>* keep_going) {
  globalInit();
  HttpResponse response;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    response.kind = Outcome::Kind::Unreachable;
    response.error = "cannot start libcurl";
    return response;
  }
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");  // the array is on the management LAN
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  if (!on_bytes)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (on_bytes) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max<long>(1, idle.count() / 1000));
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" ||
      request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  std::unique_ptr<curl_slist, HeaderListDeleter> list;
  curl_slist* raw = nullptr;
  raw = curl_slist_append(raw, "Expect:");
  for (const auto& [name, value] : request.headers)
    raw = curl_slist_append(raw, (name + ": " + value).c_str());
  list.reset(raw);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());

  PinCheck pin;
  if (request.url.rfind("https://", 0) == 0) {
    curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
    if (!tls.pin_sha256.empty()) {
      // The pinned certificate names the array: its chain and host names are not asked.
      pin.want = tls.pin_sha256;
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, sslContext);
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &pin);
    } else if (!tls.verify) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (!tls.ca_file.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
    }
  }
  Sink sink{&response, on_bytes, keep_going};
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  if (keep_going) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
  }
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);

  const CURLcode code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  if (code == CURLE_OK) return response;
  if (on_bytes && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK) &&
      response.status != 0) {
    response.error = "stopped";  // the reader's choice
    return response;
  }
  response.error = error[0] ? error : curl_easy_strerror(code);
  long sent = 0;
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent);
  if (pin.mismatch) {
    response.kind = Outcome::Kind::TlsRefused;
    response.peer_cert = pin.seen;
    response.error =
        "the array's certificate is not the pinned one (it shows sha256:" + pin.seen + ")";
  } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
             code == CURLE_SSL_CERTPROBLEM) {
    response.kind = Outcome::Kind::TlsRefused;
  } else if (sent == 0) {
    response.kind = Outcome::Kind::Unreachable;  // no request left this host
  } else {
    response.kind = Outcome::Kind::Cut;
  }
  response.status = 0;
  return response;
}

}  // namespace

HttpResponse perform(const HttpRequest& request, const TlsOptions& tls) {
  return run(request, tls, Millis{0}, nullptr, nullptr);
}

HttpResponse stream(const HttpRequest& request, const TlsOptions& tls, Millis idle,
                    const std::function<bool(std::string_view)>& on_bytes,
                    const std::function<bool()>& keep_going) {
  return run(request, tls, idle, &on_bytes, &keep_going);
}

}  // namespace dualsp::spctl
