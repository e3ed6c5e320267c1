#include "webserver/idempotency.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "platform/log.hpp"
#include "webserver/bus_command.hpp"

namespace dualsp::web::idempotency {
namespace {

// spd records a body up to this (sp/idempotency.hpp Options::max_body_bytes); a larger one is
// not sent (the local bus takes 64 KiB a request) and a retry reconstructs it.
constexpr size_t kMaxRecordedBody = 8 * 1024;

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 0xf];
  }
  return out;
}

// Each part length-prefixed, so ("ab", "c") and ("a", "bc") differ.
class Hasher {
 public:
  Hasher() { crypto_generichash_init(&state_, nullptr, 0, crypto_generichash_BYTES); }
  Hasher& add(std::string_view part) {
    const uint64_t n = part.size();
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    crypto_generichash_update(&state_, len, sizeof len);
    crypto_generichash_update(&state_, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
    return *this;
  }
  std::string hexDigest() {
    unsigned char out[crypto_generichash_BYTES];
    crypto_generichash_final(&state_, out, sizeof out);
    return hex(out, sizeof out);
  }

 private:
  crypto_generichash_state state_;
};

proto::Command command(std::string_view name, const proto::Caller& caller, const std::string& id,
                       const std::string& fp, const std::string& attempt) {
  proto::Command c;
  c.set_name(std::string(name));
  c.set_target(proto::SP_UNKNOWN);  // the active SP's: a passive spd forwards it there
  *c.mutable_caller() = caller;
  auto& args = *c.mutable_args();
  args["id"] = id;
  args["fp"] = fp;
  args["attempt"] = attempt;
  return c;
}

// Headers a replay must not repeat: every response gets its own, and a session token is never
// kept in the store.
bool kept(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower != "x-dualsp-sp" && lower != "odata-version" && lower != "cache-control" &&
         lower != "x-auth-token" && lower != "set-cookie" && lower != "content-length";
}

}  // namespace

bool validKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool keyable(const Request& request) {
  return request.method == HttpMethod::Post || request.method == HttpMethod::Patch ||
         request.method == HttpMethod::Put || request.method == HttpMethod::Delete;
}

bool refusedBody(const Request& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return false;
  return !Json::parse(request.body, nullptr, false).is_object();
}

std::string requestId(std::string_view user, std::string_view key) {
  return Hasher().add("dualsp idempotency id").add(user).add(key).hexDigest();
}

std::string fingerprint(const Request& request) {
  return Hasher()
      .add("dualsp idempotency fp")
      .add(methodName(request.method))
      .add(request.path)
      .add(request.query)
      .add(request.body)
      .hexDigest();
}

std::string newAttempt() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  return hex(raw, sizeof raw);
}

std::optional<proto::CommandResult> KeyedBus::call(const proto::Command& command,
                                                   std::chrono::milliseconds timeout) {
  proto::Command keyed = command;
  auto& args = *keyed.mutable_args();
  args["idempotency_id"] = id_;
  args["idempotency_fp"] = fp_;
  args["idempotency_attempt"] = attempt_;
  std::optional<proto::CommandResult> result = inner_.call(keyed, timeout);
  if (result && result->message_key() == "IdempotencyKeyApplied") applied_elsewhere_ = true;
  return result;
}

CheckAnswer check(ipc::CommandClient& bus, const proto::Caller& caller, const std::string& id,
                  const std::string& fp, const std::string& attempt) {
  CheckAnswer out;
  std::optional<proto::CommandResult> result =
      bus.call(command(kIdempotencyCheck, caller, id, fp, attempt), kBusTimeout);
  if (!result || result->status() != proto::CommandResult::OK) {
    out.failure = std::move(result);
    return out;
  }
  Json v = Json::parse(result->payload(), nullptr, false);
  if (!v.is_object() || !v.contains("state") || !v["state"].is_string()) {
    proto::CommandResult unreadable;
    unreadable.set_status(proto::CommandResult::INTERNAL);
    unreadable.set_error("an unreadable IdempotencyCheck answer");
    out.failure = std::move(unreadable);
    return out;
  }
  const std::string state = v["state"].get<std::string>();
  if (state == "none") out.state = CheckAnswer::State::None;
  if (state == "in_progress") out.state = CheckAnswer::State::InProgress;
  if (state == "mismatch") out.state = CheckAnswer::State::Mismatch;
  if (state == "applied") out.state = CheckAnswer::State::Applied;
  if (state == "done") out.state = CheckAnswer::State::Done;
  if (v.contains("created") && v["created"].is_string())
    out.created = v["created"].get<std::string>();
  if (v.contains("status") && v["status"].is_number_integer()) out.status = v["status"].get<int>();
  if (v.contains("headers") && v["headers"].is_object()) out.headers = v["headers"];
  if (v.contains("body") && v["body"].is_string()) out.body = v["body"].get<std::string>();
  if (out.state == CheckAnswer::State::Done && (out.status < 200 || out.status > 299))
    out.state = CheckAnswer::State::Applied;  // a record without a usable status
  return out;
}

void record(ipc::CommandClient& bus, const proto::Caller& caller, const std::string& id,
            const std::string& fp, const std::string& attempt, const Response& res) {
  proto::Command c = command(kIdempotencyRecord, caller, id, fp, attempt);
  auto& args = *c.mutable_args();
  args["status"] = std::to_string(res.status);
  if (res.status >= 200 && res.status <= 299) {
    Json headers = Json::object();
    for (const auto& [name, value] : res.headers)
      if (kept(name) && !headers.contains(name)) headers[name] = value;
    args["headers"] = headers.dump();
    std::string body = res.body.is_null() ? std::string() : res.body.dump();
    // Too large to keep: not sent, and a retry reconstructs it (a fresh GET).
    if (body.size() <= kMaxRecordedBody) args["body"] = std::move(body);
  }
  std::optional<proto::CommandResult> result = bus.call(c, kBusTimeout);
  if (!result || result->status() != proto::CommandResult::OK)
    LOG_WARNING << "idempotency: the result was not recorded ("
                << (result ? result->error() : std::string("spd did not answer"))
                << "); a retry is answered from the change's own marker";
}

bool replayable(const CheckAnswer& answer) {
  if (answer.status < 200 || answer.status > 299 || !answer.body) return false;
  auto safe = [](const std::string& t) {
    return t.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
  };
  for (const auto& [name, value] : answer.headers.items())
    if (!value.is_string() || !safe(name) || !safe(value.get<std::string>()) || name.empty())
      return false;
  if (answer.status == 204) return answer.body->empty();
  const Json body = Json::parse(*answer.body, nullptr, false);
  if (!body.is_object() || !body.contains("@odata.id") || !body["@odata.id"].is_string() ||
      body["@odata.id"].get<std::string>().rfind("/redfish", 0) != 0)
    return false;
  if (answer.status != 201) return true;
  return answer.headers.contains("Location") && answer.headers["Location"] == body["@odata.id"];
}

void replay(const CheckAnswer& answer, Response& res) {
  res = Response{};
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers.items())
    if (value.is_string()) res.addHeader(name, value.get<std::string>());
  if (answer.body && !answer.body->empty()) {
    res.body = Json::parse(*answer.body, nullptr, false);
    if (res.body.is_discarded()) res.body = nullptr;
  }
}

}  // namespace dualsp::web::idempotency
