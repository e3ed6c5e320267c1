// The event log alone: readers see only acknowledged events; queued events are recorded by
// the active SP with consecutive ids in one change, and forwarded by a passive.

#include "sp/config_event_log.hpp"

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

namespace {

ConfigRecord eventAt(uint64_t id, Version v) {
  proto::Event e;
  e.set_id(id);
  e.set_message("event " + std::to_string(id));
  return record(eventKey(id), e.SerializeAsString(), v);
}

proto::Event named(const std::string& message) {
  proto::Event e;
  e.set_message(message);
  return e;
}

}  // namespace

TEST_GROUP(ConfigEventLog) {
  TempDir tmp;
  ScriptedPeer peer;
  std::unique_ptr<ConfigCore> core;
  std::unique_ptr<ConfigTakeover> takeover;
  std::unique_ptr<ConfigWriter> writer;
  std::unique_ptr<ConfigForwarder> forwarder;
  std::unique_ptr<ConfigEventLog> log;
  std::vector<proto::Command> routed;
  void build(ConfigServiceDependencies deps) {
    deps.forward = [this](proto::Command c, Reply reply) {
      routed.push_back(c);
      reply(okResult(""));
    };
    core = openCore(tmp.path, deps);
    takeover = std::make_unique<ConfigTakeover>(*core);
    writer = std::make_unique<ConfigWriter>(*core, *takeover, [] { return false; });
    forwarder = std::make_unique<ConfigForwarder>(*core);
    log = std::make_unique<ConfigEventLog>(*core, *takeover, *writer, *forwarder);
  }
};

TEST(ConfigEventLog, ReadersSeeOnlyAcknowledgedEvents) {
  build(activeDeps(SpId::B, nullptr));
  CHECK_TRUE(core->store.commit({eventAt(1, {1, 1}), eventAt(2, {1, 2}), eventAt(3, {1, 3})}).ok);
  core->visible = {1, 2};  // a passive: the active acknowledged up to 1.2
  auto events = log->eventsAfter(0, 10);
  CHECK_EQUAL(2u, events.size());
  CHECK_EQUAL(2u, log->lastEventId());
  CHECK_EQUAL(1u, log->eventsAfter(1, 10).size());
  Captured page;
  proto::Command c;
  (*c.mutable_args())["top"] = "1";
  log->handleGetEvents(c, page.reply());
  proto::EventPage p;
  p.ParseFromString(page.result->payload());
  CHECK_EQUAL(2u, p.total());
  CHECK_EQUAL(2u, p.last_id());
  CHECK_EQUAL(1, p.events_size());
}

// An event merged back under its own (older) id carries a newer version: on a passive it is
// acknowledged after events with larger ids. Readers stop before it rather than skip it, so a
// follower asking for the ids after the last one it got never passes over it.
TEST(ConfigEventLog, ReadersNeverSkipAnEventNotAcknowledgedYet) {
  build(activeDeps(SpId::B, nullptr));
  CHECK_TRUE(core->store.commit({eventAt(1, {1, 1}), eventAt(3, {1, 2}), eventAt(4, {1, 3})}).ok);
  CHECK_TRUE(core->store.commit({eventAt(2, {1, 4})}).ok);  // restored after 3 and 4
  core->visible = {1, 3};
  Captured page;
  proto::Command c;
  (*c.mutable_args())["after"] = "1";
  log->handleGetEvents(c, page.reply());
  proto::EventPage p;
  p.ParseFromString(page.result->payload());
  CHECK_EQUAL(0, p.events_size());  // not 3 and 4 without 2
  CHECK_EQUAL(1u, p.total());
  CHECK_EQUAL(1u, p.last_id());
  CHECK_EQUAL(1u, log->lastEventId());
  CHECK_EQUAL(0u, log->eventsAfter(1, 10).size());
  core->visible = {1, 4};
  Captured all;
  log->handleGetEvents(c, all.reply());
  p.ParseFromString(all.result->payload());
  CHECK_EQUAL(3, p.events_size());
  CHECK_EQUAL(2u, p.events(0).id());
  CHECK_EQUAL(4u, p.last_id());
}

TEST(ConfigEventLog, TheActiveRecordsQueuedEventsWithConsecutiveIdsInOneChange) {
  auto deps = activeDeps(SpId::A, &peer);
  deps.peer_alive = [] { return false; };  // alone: no replication to script
  build(deps);
  core->pending_events = {named("one"), named("two")};
  log->flush(Role::Active);
  CHECK_TRUE(core->pending_events.empty());
  auto events = log->eventsAfter(0, 10);
  CHECK_EQUAL(2u, events.size());
  CHECK_EQUAL(1u, events[0].id());
  CHECK_EQUAL(2u, events[1].id());
  STRCMP_EQUAL("two", events[1].message().c_str());
}

TEST(ConfigEventLog, APassiveForwardsItsEventsToTheActiveAndKeepsNone) {
  auto deps = activeDeps(SpId::B, nullptr);
  deps.role = [] { return Role::Passive; };
  build(deps);
  core->pending_events = {named("seen by B")};
  log->flush(Role::Passive);
  CHECK_TRUE(core->pending_events.empty());
  CHECK_EQUAL(1u, routed.size());
  STRCMP_EQUAL("ConfigWrite", routed[0].name().c_str());
  CHECK_FALSE(core->store.lastUnder(kEventPrefix).has_value());  // nothing recorded here
}

TEST(ConfigEventLog, APassiveThatCannotReachTheActiveKeepsItsEvents) {
  auto deps = activeDeps(SpId::B, nullptr);
  deps.role = [] { return Role::Passive; };
  deps.peer_reachable = [] { return false; };
  build(deps);
  core->pending_events = {named("waits")};
  log->flush(Role::Passive);
  CHECK_EQUAL(1u, core->pending_events.size());
  CHECK_TRUE(routed.empty());
}
