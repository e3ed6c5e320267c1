#pragma once
// spd's configuration service as the route tests need it: GetConfig, ConfigWrite and
// GetEvents answered from an in-memory store, on a FakeCommandClient (what spd does is
// sp/config_service.cpp's business and its own tests').

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_command_client.hpp"
#include "proto/config.pb.h"

namespace dualsp::web::test {

class FakeConfigStore {
 public:
  explicit FakeConfigStore(FakeCommandClient& bus) {
    bus.respond("GetConfig", [this](const proto::Command& c) { return getConfig(c); });
    bus.respond("ConfigWrite", [this](const proto::Command& c) { return configWrite(c); });
    bus.respond("GetEvents", [this](const proto::Command& c) { return getEvents(c); });
  }

  void put(const std::string& key, const std::string& json) {
    std::lock_guard<std::mutex> lock(mutex_);
    records_[key] = json;
  }
  std::optional<std::string> value(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = records_.find(key);
    return it == records_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  // Events are appended with the next id (as spd's seq: increasing, never reused).
  proto::Event addEvent(const std::string& message_id, const std::string& message) {
    proto::Event e;
    e.set_message_id(message_id);
    e.set_message(message);
    e.set_severity("OK");
    e.set_time_ms(1'800'000'000'000);
    return record(std::move(e));
  }
  // An event as spd would record it (id given here).
  proto::Event addEvent(proto::Event e) { return record(std::move(e)); }
  std::vector<proto::Event> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::vector<proto::ConfigWrite> writes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return writes_;
  }
  // What the next ConfigWrite answers instead of applying it (INSUFFICIENT_STORAGE...).
  void failWrites(std::optional<proto::CommandResult::Status> status) {
    std::lock_guard<std::mutex> lock(mutex_);
    fail_writes_ = status;
  }
  // GetEvents answers nothing (spd silent) while true.
  void silence(bool silent) {
    std::lock_guard<std::mutex> lock(mutex_);
    silent_ = silent;
  }

 private:
  static proto::CommandResult ok(const std::string& payload) {
    proto::CommandResult r;
    r.set_status(proto::CommandResult::OK);
    r.set_served_by(proto::SP_A);
    r.set_payload(payload);
    return r;
  }
  static uint64_t arg(const proto::Command& c, const std::string& name, uint64_t fallback) {
    auto it = c.args().find(name);
    return it == c.args().end() ? fallback : std::stoull(it->second);
  }

  proto::Event record(proto::Event e) {
    std::lock_guard<std::mutex> lock(mutex_);
    e.set_id(++seq_);
    events_.push_back(e);
    return e;
  }

  std::optional<proto::CommandResult> getConfig(const proto::Command& c) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string prefix = c.args().count("prefix") ? c.args().at("prefix") : "";
    proto::ConfigRecords out;
    for (const auto& [key, value] : records_) {
      if (key.rfind(prefix, 0) != 0) continue;
      proto::ConfigRecord* r = out.add_records();
      r->set_key(key);
      r->set_value(value);
    }
    return ok(out.SerializeAsString());
  }

  std::optional<proto::CommandResult> configWrite(const proto::Command& c) {
    proto::ConfigWrite change;
    change.ParseFromString(c.payload());
    proto::ConfigWriteAnswer answer;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      writes_.push_back(change);
      if (fail_writes_) {
        proto::CommandResult r;
        r.set_status(*fail_writes_);
        r.set_error("scripted");
        return r;
      }
      for (const proto::ConfigRecord& r : change.records()) {
        std::string key = r.key();
        if (!change.create_prefix().empty()) key = change.create_prefix() + std::to_string(++seq_);
        if (r.deleted()) {
          if (!records_.erase(key)) {
            proto::CommandResult missing;
            missing.set_status(proto::CommandResult::NOT_FOUND);
            missing.set_error("no " + key + " to remove");
            return missing;
          }
        } else {
          records_[key] = r.value();
        }
        answer.add_keys(key);
      }
      answer.set_replicated(true);
      answer.set_written_by(proto::SP_A);
    }
    if (change.has_event()) record(change.event());
    return ok(answer.SerializeAsString());
  }

  std::optional<proto::CommandResult> getEvents(const proto::Command& c) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (silent_) return std::nullopt;
    const uint64_t after = arg(c, "after", 0);
    const uint64_t skip = arg(c, "skip", 0);
    const uint64_t top = std::min<uint64_t>(arg(c, "top", 100), 1000);
    proto::EventPage page;
    page.set_total(events_.size());
    page.set_last_id(events_.empty() ? 0 : events_.back().id());
    uint64_t skipped = 0;
    for (const proto::Event& e : events_) {
      if (e.id() <= after) continue;
      if (skipped++ < skip) continue;
      if (static_cast<uint64_t>(page.events_size()) >= top) break;
      *page.add_events() = e;
    }
    return ok(page.SerializeAsString());
  }

  mutable std::mutex mutex_;
  std::map<std::string, std::string> records_;
  std::vector<proto::Event> events_;
  std::vector<proto::ConfigWrite> writes_;
  std::optional<proto::CommandResult::Status> fail_writes_;
  bool silent_ = false;
  uint64_t seq_ = 0;
};

}  // namespace dualsp::web::test
