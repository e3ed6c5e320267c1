#include "sp/idempotency.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "platform/log.hpp"
#include "sp/config_core.hpp"

namespace dualsp::sp::idempotency {
namespace {

using json = nlohmann::json;

std::string argOf(const proto::Command& c, const char* name) {
  auto it = c.args().find(name);
  return it == c.args().end() ? std::string() : it->second;
}

json parsed(const ConfigRecord& r) {
  json v = json::parse(r.value(), nullptr, false);
  return v.is_object() ? v : json::object();
}

std::string text(const json& v, const char* name) {
  auto it = v.find(name);
  return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t number(const json& v, const char* name) {
  auto it = v.find(name);
  return it != v.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

proto::CommandResult answerWith(json out) {
  return okResult(out.dump());
}

proto::Command privateWrite(const proto::ConfigWrite& change, const proto::Caller& caller) {
  proto::Command c;
  c.set_name("ConfigWrite");
  c.set_target(proto::SP_UNKNOWN);
  *c.mutable_caller() = caller;
  (*c.mutable_args())["private"] = "1";  // idempotency/ is spd's own (isPrivateKey)
  c.set_payload(change.SerializeAsString());
  return c;
}

}  // namespace

std::string recordKey(const std::string& id) {
  return kPrefix + id;
}

bool validHash(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  return std::all_of(t.begin(), t.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<proto::IdempotencyMarker> markerOf(const proto::Command& command) {
  std::string id = argOf(command, kArgId);
  if (id.empty()) return std::nullopt;
  proto::IdempotencyMarker m;
  m.set_id(std::move(id));
  m.set_fp(argOf(command, kArgFp));
  m.set_attempt(argOf(command, kArgAttempt));
  m.set_created(argOf(command, kArgCreated));
  return m;
}

void passOn(const proto::Command& from, proto::Command& to) {
  for (const char* name : {kArgId, kArgFp, kArgAttempt, kArgCreated}) {
    auto it = from.args().find(name);
    if (it != from.args().end()) (*to.mutable_args())[name] = it->second;
  }
}

void dropArgs(proto::Command& command) {
  for (const char* name : {kArgId, kArgFp, kArgAttempt, kArgCreated})
    command.mutable_args()->erase(name);
}

std::optional<std::string> appliedValue(const proto::IdempotencyMarker& marker,
                                        const std::optional<ConfigRecord>& existing,
                                        const std::vector<std::string>& keys,
                                        const std::string& create_prefix, int64_t now_ms) {
  json v = json::object();
  if (existing && !existing->deleted()) {
    v = parsed(*existing);
    // Another request made this change already: this one must not make it again.
    if (text(v, "attempt") != marker.attempt() || text(v, "fp") != marker.fp()) return std::nullopt;
  }
  v["fp"] = marker.fp();
  v["attempt"] = marker.attempt();
  if (!v.contains("at")) v["at"] = now_ms;
  if (!v.contains("state")) v["state"] = "applied";
  std::string created = marker.created();
  // A record created under a prefix ("subscriptions/7"): its id is what the client's POST made.
  if (created.empty() && !create_prefix.empty() && !keys.empty() &&
      keys.front().rfind(create_prefix, 0) == 0)
    created = keys.front().substr(create_prefix.size());
  if (!created.empty()) v["created"] = created;
  return v.dump();
}

IdempotencyService::IdempotencyService(Dependencies deps, Options options)
    : deps_(std::move(deps)), options_(options) {}

void IdempotencyService::registerCommands(CommandRegistry& registry) {
  // Mutating: never coalesced, never answered from a stale copy of the peer's. Degraded: the
  // degraded server's changes (logout, reset) may carry a key too.
  registry.add({"IdempotencyCheck",
                [this](const proto::Command& c, Reply r) { check(c, std::move(r)); },
                /*degraded=*/true, Privilege::Login, /*mutating=*/true});
  registry.add({"IdempotencyRecord",
                [this](const proto::Command& c, Reply r) { record(c, std::move(r)); },
                /*degraded=*/true, Privilege::Login, /*mutating=*/true});
}

std::optional<IdempotencyService::KeyArgs> IdempotencyService::keyArgs(
    const proto::Command& command, Reply& reply) {
  // The attempts in progress and the records are the active SP's: a passive asks it.
  if (!deps_.active()) {
    deps_.forward_to_active(command, std::move(reply));
    return std::nullopt;
  }
  KeyArgs a{argOf(command, "id"), argOf(command, "fp"), argOf(command, "attempt")};
  if (!validHash(a.id) || !validHash(a.fp) || a.attempt.empty()) {
    reply(errorResult(proto::CommandResult::BAD_REQUEST, "id, fp and attempt required"));
    return std::nullopt;
  }
  return a;
}

void IdempotencyService::check(const proto::Command& command, Reply reply) {
  std::optional<KeyArgs> args = keyArgs(command, reply);
  if (!args) return;
  const auto& [id, fp, attempt] = *args;
  if (std::optional<ConfigRecord> r = deps_.get(recordKey(id)); r && !r->deleted()) {
    json v = parsed(*r);
    if (text(v, "fp") != fp) return reply(answerWith({{"state", "mismatch"}}));
    json out = {{"state", text(v, "state") == "done" ? "done" : "applied"},
                {"created", text(v, "created")}};
    for (const char* field : {"status", "headers", "body"})
      if (v.contains(field)) out[field] = v[field];
    return reply(answerWith(std::move(out)));
  }
  const auto now = deps_.now();
  std::lock_guard lock(mu_);
  auto it = running_.find(id);
  if (it != running_.end() && it->second.until > now && it->second.attempt != attempt)
    return reply(answerWith({{"state", "in_progress"}}));
  running_[id] = {attempt, now + options_.in_progress_bound};
  reply(answerWith({{"state", "none"}}));
}

void IdempotencyService::release(const std::string& id, const std::string& attempt) {
  std::lock_guard lock(mu_);
  auto it = running_.find(id);
  if (it != running_.end() && it->second.attempt == attempt) running_.erase(it);
}

void IdempotencyService::record(const proto::Command& command, Reply reply) {
  std::optional<KeyArgs> args = keyArgs(command, reply);
  if (!args) return;
  const auto& [id, fp, attempt] = *args;
  int status = 0;
  try {
    status = std::stoi(argOf(command, "status"));
  } catch (const std::exception&) {
    status = 0;
  }
  // Only a success is kept: an error changed nothing (or its outcome is unknown), and a retry
  // must be free to make the change.
  std::optional<ConfigRecord> existing = deps_.get(recordKey(id));
  json v = existing && !existing->deleted() ? parsed(*existing) : json::object();
  const bool owned = v.empty() || (text(v, "attempt") == attempt && text(v, "fp") == fp);
  if (status < 200 || status > 299 || !owned) {
    release(id, attempt);
    return reply(answerWith({{"recorded", false}}));
  }
  v["fp"] = fp;
  v["attempt"] = attempt;
  if (!v.contains("at")) v["at"] = deps_.wall_ms();
  v["state"] = "done";
  v["status"] = status;
  json headers = json::parse(argOf(command, "headers"), nullptr, false);
  v["headers"] = headers.is_object() ? headers : json::object();
  const std::string body = argOf(command, "body");
  if (body.size() <= options_.max_body_bytes)
    v["body"] = body;
  else
    v.erase("body");
  proto::ConfigWrite change;
  proto::ConfigRecord* r = change.add_records();
  r->set_key(recordKey(id));
  r->set_value(v.dump());
  deps_.write(privateWrite(change, command.caller()),
              [this, id, attempt, reply = std::move(reply)](proto::CommandResult result) {
                release(id, attempt);
                if (result.status() != proto::CommandResult::OK) {
                  // The marker the change wrote still says "applied": a retry is answered
                  // as a success reconstructed, never made again.
                  LOG_WARNING << "idempotency: the result of " << id.substr(0, 12)
                              << " not recorded: " << result.error();
                  return reply(answerWith({{"recorded", false}}));
                }
                reply(answerWith({{"recorded", true}}));
              });
}

size_t IdempotencyService::inProgress() const {
  std::lock_guard lock(mu_);
  return running_.size();
}

std::vector<std::string> IdempotencyService::expiredKeys() const {
  std::vector<std::pair<int64_t, std::string>> all;
  for (const ConfigRecord& r : deps_.list(kPrefix)) {
    if (r.deleted()) continue;
    all.emplace_back(number(parsed(r), "at"), r.key());
  }
  std::sort(all.begin(), all.end());
  const int64_t oldest_kept = deps_.wall_ms() - options_.keep.count();
  const size_t over = all.size() > options_.max_records ? all.size() - options_.max_records : 0;
  std::vector<std::string> out;
  for (size_t i = 0; i < all.size() && out.size() < options_.removals_per_change; ++i) {
    if (i >= over && all[i].first >= oldest_kept) break;  // sorted: the rest are newer
    out.push_back(all[i].second);
  }
  return out;
}

void IdempotencyService::tick() {
  const auto now = deps_.now();
  if (!deps_.active()) {
    std::lock_guard lock(mu_);
    running_.clear();  // a new active SP starts with none; this one takes no more
    return;
  }
  {
    std::lock_guard lock(mu_);
    for (auto it = running_.begin(); it != running_.end();)
      it = it->second.until <= now ? running_.erase(it) : std::next(it);
    if (retention_busy_ || now < next_retention_) return;
    next_retention_ = now + options_.retention_every;
  }
  std::vector<std::string> keys = expiredKeys();
  if (keys.empty()) return;
  proto::ConfigWrite change;
  for (const std::string& key : keys) {
    proto::ConfigRecord* r = change.add_records();
    r->set_key(key);
    r->set_deleted(true);
  }
  {
    std::lock_guard lock(mu_);
    retention_busy_ = true;
  }
  proto::Caller spd;
  spd.set_origin("spd idempotency retention");
  const size_t count = keys.size();
  deps_.write(privateWrite(change, spd), [this, count](proto::CommandResult result) {
    if (result.status() == proto::CommandResult::OK)
      LOG_INFO << "idempotency: " << count << " old keys dropped";
    else
      LOG_WARNING << "idempotency: old keys not dropped: " << result.error();
    std::lock_guard lock(mu_);
    retention_busy_ = false;
  });
}

}  // namespace dualsp::sp::idempotency
