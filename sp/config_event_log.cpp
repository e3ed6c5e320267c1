#include "sp/config_event_log.hpp"

#include <algorithm>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"

namespace dualsp::sp {
namespace {

constexpr size_t kMaxEventPage = 1000;
constexpr size_t kDefaultEventPage = 100;
constexpr size_t kMaxPendingEvents = 1000;

uint64_t argNumber(const proto::Command& c, const std::string& name, uint64_t fallback) {
  auto it = c.args().find(name);
  if (it == c.args().end() || it->second.empty()) return fallback;
  try {
    return std::stoull(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

void ConfigEventLog::recordEvent(proto::Event event) {
  if (event.time_ms() == 0 && core_.deps.wall_ms) event.set_time_ms(core_.deps.wall_ms());
  if (event.reported_by() == proto::SP_UNKNOWN)
    event.set_reported_by(ipc::toProto(core_.deps.self));
  LOG_INFO << "event " << event.message_id() << ": " << event.message();
  core_.post([this, event = std::move(event)]() mutable {
    core_.pending_events.push_back(std::move(event));
    Role role = core_.role();
    if (role == Role::Active || role == Role::Passive) flush(role);
  });
}

void ConfigEventLog::forwardPending() {
  // The active SP records them; until it can be reached they wait here.
  if (!core_.peerAlive() || !core_.peerReachable() || !core_.deps.forward) return;
  auto events = std::move(core_.pending_events);
  core_.pending_events.clear();
  for (auto& event : events)
    forwarder_.forwardEvent(event, [this, event] {
      core_.post([this, event] { core_.pending_events.push_back(event); });
    });
}

void ConfigEventLog::flush(Role role) {
  if (core_.pending_events.empty() || !core_.store.isOpen()) return;
  // Before an id is given: a new active SP first learns how far its peer's ids went (chaos
  // seed 1: the first events of an SP that took over reused the dead peer's ids).
  takeover_.noteRole(role);
  auto& pending = core_.pending_events;
  if (pending.size() > kMaxPendingEvents) {
    LOG_WARNING << (pending.size() - kMaxPendingEvents)
                << " array events dropped: none could be recorded for too long";
    pending.erase(pending.begin(), pending.end() - static_cast<long>(kMaxPendingEvents));
  }
  if (role != Role::Active) return forwardPending();
  platform::Status refusal;
  switch (writer_.recordEvents(pending, refusal)) {
    case ConfigWriter::EventsOutcome::Recorded:
      pending.clear();
      return;
    case ConfigWriter::EventsOutcome::Refused:
      if (isStorageError(refusal)) pending.clear();  // logged in spd.log by the writer
      return;
    case ConfigWriter::EventsOutcome::Wait:
      return;  // they wait for the next tick
  }
}

std::vector<proto::Event> ConfigEventLog::eventsAfter(uint64_t after, size_t max) const {
  const Version visible = core_.visibleVersion();
  std::vector<proto::Event> out;
  std::string from = after ? eventKey(after) : "";
  // Keys follow ids; an event merged back into a hole has an old id and a new version, so
  // visibility is checked per record.
  while (out.size() < max) {
    auto page = core_.store.listAfter(kEventPrefix, from, max);
    if (page.empty()) break;
    for (const auto& r : page) {
      from = r.key();
      if (visible < versionOf(r)) return out;  // not acknowledged yet: nothing after it either
      proto::Event e;
      if (e.ParseFromString(r.value())) out.push_back(std::move(e));
      if (out.size() >= max) break;
    }
    if (page.size() < max) break;
  }
  return out;
}

void ConfigEventLog::handleGetEvents(const proto::Command& c, Reply reply) const {
  if (!core_.store.isOpen())
    return reply(errorResult(proto::CommandResult::UNAVAILABLE,
                             "the configuration store is not open: " + core_.open_error));
  uint64_t after = argNumber(c, "after", 0);
  uint64_t skip = argNumber(c, "skip", 0);
  size_t top = std::min<uint64_t>(argNumber(c, "top", kDefaultEventPage), kMaxEventPage);
  const Version visible = core_.visibleVersion();
  proto::EventPage page;
  // One pass over the shown events: the count, the newest id and the page. Shown are the
  // events in id order up to the first one not acknowledged yet, never one after it: an event
  // merged back under its old id has a newer version, and on a passive it may be acknowledged
  // after events with larger ids; skipping it would leave a hole an SSE follower passes for
  // good (it asks for ids after the last it got).
  uint64_t total = 0, skipped = 0;
  for (const auto& r : core_.store.list(kEventPrefix)) {
    if (visible < versionOf(r)) break;  // not acknowledged yet: nothing after it either
    const uint64_t id = eventIdOf(r.key());
    ++total;
    page.set_last_id(std::max(page.last_id(), id));
    if (id <= after || skipped++ < skip) continue;
    proto::Event e;
    if (static_cast<size_t>(page.events_size()) < top && e.ParseFromString(r.value()))
      *page.add_events() = std::move(e);
  }
  page.set_total(total);
  reply(okResult(page.SerializeAsString()));
}

}  // namespace dualsp::sp
