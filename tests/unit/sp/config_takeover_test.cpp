// The takeover checks alone: an SP that becomes active without the dead peer's latest
// history names what it lacks (fault, event, missing.point) and keeps the peer's event ids
// free; one that cannot read the peer's history at all takes no change until it can.

#include "sp/config_takeover.hpp"

#include <filesystem>

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

TEST_GROUP(ConfigTakeover) {
  TempDir tmp;
  std::vector<std::string> raised, cleared;
  std::optional<History> peer_history;
  bool readable = true;
  ConfigServiceDependencies deps() {
    auto d = activeDeps(SpId::B, nullptr);
    d.peer_alive = [] { return false; };
    d.peer_history = [this] { return peer_history; };
    d.peer_history_readable = [this] { return readable; };
    d.fault = [this](const std::string& id, bool up, const std::string&, const std::string&,
                     Health) { (up ? raised : cleared).push_back(id); };
    return d;
  }
};

TEST(ConfigTakeover, ATakeoverWithoutThePeersLatestHistoryNamesItAndKeepsItsIdsFree) {
  auto core = openCore(tmp.path, deps());
  peer_history = History{3, 60, 52};
  ConfigTakeover(*core).noteRole(Role::Active);
  CHECK_EQUAL(1u, raised.size());
  STRCMP_EQUAL("config-missing", raised[0].c_str());
  CHECK_EQUAL(52u, core->event_floor);
  CHECK_EQUAL(53u, core->nextEventId());
  CHECK_EQUAL(1u, core->pending_events.size());
  CHECK_TRUE(core->pending_events[0].message().find("events 1 to 52") != std::string::npos);
  CHECK_TRUE(std::filesystem::exists(tmp.path + "/missing.point"));
  // A restart remembers it.
  auto again = openCore(tmp.path, deps());
  CHECK_EQUAL(52u, again->event_floor);
  CHECK_TRUE(again->missing.has_value());
}

TEST(ConfigTakeover, NothingIsMissingWhenThisSpHoldsThePeersWholeHistory) {
  auto core = openCore(tmp.path, deps());
  peer_history = History{0, 0, 0};
  ConfigTakeover(*core).noteRole(Role::Active);
  CHECK_TRUE(raised.empty());
  CHECK_FALSE(std::filesystem::exists(tmp.path + "/missing.point"));
}

TEST(ConfigTakeover, ATakeoverThatCannotReadThePeersHistoryWaitsUntilItCan) {
  auto core = openCore(tmp.path, deps());
  readable = false;
  ConfigTakeover takeover(*core);
  takeover.noteRole(Role::Active);
  CHECK_TRUE(core->history_unknown);
  STRCMP_EQUAL("config-unknown", raised[0].c_str());
  takeover.resolveUnknownHistory();
  CHECK_TRUE(core->history_unknown);
  readable = true;
  takeover.resolveUnknownHistory();
  CHECK_FALSE(core->history_unknown);
  STRCMP_EQUAL("config-unknown", cleared[0].c_str());
}
