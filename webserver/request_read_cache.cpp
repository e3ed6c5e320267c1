#include "webserver/request_read_cache.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "webserver/read_cache.hpp"

namespace dualsp::web {
namespace {

// Everything the answer may depend on, each part length-prefixed so that no two commands
// share a key.
std::string keyOf(const proto::Command& command) {
  std::string key;
  auto add = [&key](const std::string& part) {
    key += std::to_string(part.size());
    key += ':';
    key += part;
  };
  add(command.name());
  add(std::to_string(command.target()));
  std::vector<std::pair<std::string, std::string>> args(command.args().begin(),
                                                        command.args().end());
  std::sort(args.begin(), args.end());
  for (const auto& [name, value] : args) {
    add(name);
    add(value);
  }
  add(command.payload());
  add(std::to_string(command.forwarded()));
  add(std::to_string(command.deadline_ms()));
  add(command.caller().user());
  add(command.caller().role());
  add(command.caller().origin());
  return key;
}

}  // namespace

RequestReadCache::Entry* RequestReadCache::lookUp(const proto::Command& command,
                                                  std::chrono::milliseconds timeout,
                                                  std::optional<proto::CommandResult>& passed) {
  if (!isReadCommand(command.name())) {
    entries_.clear();  // it may change what any read answers
    derived_.clear();
    ++sent_;
    passed = bus_.call(command, timeout);
    return nullptr;
  }
  const std::string key = keyOf(command);
  if (auto it = entries_.find(key); it != entries_.end()) {
    ++reused_;
    return &it->second;
  }
  ++sent_;
  Entry entry;
  // No answer is reused too: a thousand handlers must not each wait the bus timeout.
  entry.result = bus_.call(command, timeout);
  if (entry.result) entry.payload = std::move(*entry.result->mutable_payload());
  if (entry.result) entry.result->clear_payload();
  return &entries_.emplace(key, std::move(entry)).first->second;
}

std::optional<proto::CommandResult> RequestReadCache::call(const proto::Command& command,
                                                           std::chrono::milliseconds timeout) {
  std::optional<proto::CommandResult> passed;
  const Entry* entry = lookUp(command, timeout, passed);
  if (!entry) return passed;
  std::optional<proto::CommandResult> out = entry->result;
  if (out) out->set_payload(entry->payload);
  return out;
}

RequestReadCache::JsonAnswer RequestReadCache::callForJson(const proto::Command& command,
                                                           std::chrono::milliseconds timeout) {
  std::optional<proto::CommandResult> passed;
  Entry* entry = lookUp(command, timeout, passed);
  if (!entry) {
    JsonAnswer answer;
    if (passed) {
      answer.payload = std::make_shared<const Json>(Json::parse(passed->payload(), nullptr, false));
      passed->clear_payload();
    }
    answer.result = std::move(passed);
    return answer;
  }
  if (entry->result && !entry->parsed)
    entry->parsed = std::make_shared<const Json>(Json::parse(entry->payload, nullptr, false));
  return {entry->result, entry->parsed};
}

std::shared_ptr<const Json> RequestReadCache::derived(const std::string& key) const {
  auto it = derived_.find(key);
  return it == derived_.end() ? nullptr : it->second;
}

void RequestReadCache::remember(const std::string& key, std::shared_ptr<const Json> value) {
  derived_[key] = std::move(value);
}

}  // namespace dualsp::web
