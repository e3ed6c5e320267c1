// The merge alone: what the passive holds after the common point is taken as new changes of
// the active; a key both changed goes to the newer version with a conflict event; records
// this SP stamped but never committed are dropped; the peer's events keep their ids where
// they are free.

#include "sp/config_merge.hpp"

#include <nlohmann/json.hpp>

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

namespace {

ConfigRecord eventAt(uint64_t id, const std::string& message, Version v, proto::SpId writer) {
  proto::Event e;
  e.set_id(id);
  e.set_message(message);
  ConfigRecord r = record(eventKey(id), e.SerializeAsString(), v, writer);
  return r;
}

}  // namespace

TEST_GROUP(ConfigMerge) {
  TempDir tmp;
  std::unique_ptr<ConfigCore> core;
  void setup() override {
    core = openCore(tmp.path, activeDeps(SpId::A, nullptr));
    CHECK_TRUE(core != nullptr);
    // Shared history up to 1.2, then SP-A changed "both" alone at 2.3.
    CHECK_TRUE(
        core->store.commit({record("shared", "s", {1, 1}), record("both", "a0", {1, 2})}).ok);
    CHECK_TRUE(core->store.commit({record("both", "a", {2, 3})}).ok);
  }
};

TEST(ConfigMerge, ThePeersOwnChangesAreTakenAsNewChangesOfThisSp) {
  proto::SyncOffer offer;
  *offer.add_divergent() = record("only-b", "b", {1, 3}, proto::SP_B);
  MergeOutcome out = ConfigMerge(*core).merge(offer, {1, 2}, /*everything=*/false);
  CHECK_EQUAL(1u, out.taken);
  CHECK_EQUAL(0u, out.conflicts);
  CHECK_EQUAL(1u, out.merged.size());
  STRCMP_EQUAL("only-b", out.merged[0].key().c_str());
  CHECK_TRUE(versionOf(out.merged[0]) == (Version{2, 4}));
  CHECK_EQUAL(proto::SP_A, out.merged[0].writer());
}

TEST(ConfigMerge, AKeyBothChangedGoesToTheNewerVersionAndIsReported) {
  proto::SyncOffer offer;
  *offer.add_divergent() = record("both", "b-older", {1, 3}, proto::SP_B);
  MergeOutcome out = ConfigMerge(*core).merge(offer, {1, 2}, false);
  CHECK_EQUAL(1u, out.conflicts);
  CHECK_EQUAL(0u, out.taken);  // SP-A's 2.3 is newer
  CHECK_EQUAL(1u, out.merged.size());
  CHECK_TRUE(isEventKey(out.merged[0].key()));
  proto::Event e;
  e.ParseFromString(out.merged[0].value());
  CHECK_TRUE(e.message().find("kept the newer, SP-A's") != std::string::npos);

  proto::SyncOffer newer;
  *newer.add_divergent() = record("both", "b-newer", {3, 3}, proto::SP_B);
  MergeOutcome won = ConfigMerge(*core).merge(newer, {1, 2}, false);
  CHECK_EQUAL(1u, won.conflicts);
  CHECK_EQUAL(1u, won.taken);
}

// Values of two-byte characters, 81 bytes or more: a cut at a byte would leave half an "é"
// in the event, which no JSON writer after it could render (spd's delivery aborted on it).
TEST(ConfigMerge, AConflictQuotesValuesCutWhereACharacterEnds) {
  std::string accents = "\"";
  for (int i = 0; i < 45; ++i) accents += "\xc3\xa9";
  accents += "\"";
  CHECK_TRUE(core->store.commit({record("both", accents, {2, 4})}).ok);
  proto::SyncOffer offer;
  *offer.add_divergent() = record("both", "x" + accents, {1, 3}, proto::SP_B);
  MergeOutcome out = ConfigMerge(*core).merge(offer, {1, 2}, false);
  CHECK_EQUAL(1u, out.conflicts);
  proto::Event e;
  e.ParseFromString(out.merged[0].value());
  const std::string& m = e.message();
  for (size_t at = m.find("..."); at != std::string::npos; at = m.find("...", at + 3)) {
    // The byte before the cut ends a character: ASCII or the last byte of "é".
    const auto before = static_cast<unsigned char>(m[at - 1]);
    CHECK_TEXT(before < 0x80 || before == 0xa9, m.c_str());
    if (before == 0xa9) CHECK_EQUAL(0xc3, static_cast<unsigned char>(m[at - 2]));
  }
  CHECK_TRUE(m.find("...") != std::string::npos);
  // The whole text is valid UTF-8: a strict JSON writer takes it.
  std::string dumped = nlohmann::json(m).dump();
  CHECK_TRUE(dumped.size() > m.size());
}

TEST(ConfigMerge, RecordsThisSpStampedButNeverCommittedAreDropped) {
  proto::SyncOffer offer;
  *offer.add_divergent() = record("lost", "x", {2, 9}, proto::SP_A);
  MergeOutcome out = ConfigMerge(*core).merge(offer, {1, 2}, false);
  CHECK_EQUAL(1u, out.dropped);
  CHECK_TRUE(out.merged.empty());
}

TEST(ConfigMerge, ThePeersEventsKeepTheirIdsWhereTheyAreFree) {
  core->event_floor = 5;  // took over knowing the peer's events went up to 5
  proto::SyncOffer offer;
  *offer.add_divergent() = eventAt(4, "from B", {1, 3}, proto::SP_B);
  MergeOutcome out = ConfigMerge(*core).merge(offer, {1, 2}, false);
  CHECK_EQUAL(1u, out.restored);
  STRCMP_EQUAL(eventKey(4).c_str(), out.merged[0].key().c_str());
  CHECK_EQUAL(6u, out.next_event_id);
}

TEST(ConfigMerge, RecoveringEverythingTakesWhatIsMissingOrOlderWithoutConflicts) {
  proto::SyncOffer offer;
  *offer.add_divergent() = record("shared", "s", {1, 1}, proto::SP_B);     // the same
  *offer.add_divergent() = record("both", "b", {1, 9}, proto::SP_B);       // newer here: kept
  *offer.add_divergent() = record("lost-here", "l", {1, 2}, proto::SP_B);  // missing here
  MergeOutcome out = ConfigMerge(*core).merge(offer, {}, /*everything=*/true);
  CHECK_EQUAL(0u, out.conflicts);
  CHECK_EQUAL(1u, out.taken);
  STRCMP_EQUAL("lost-here", out.merged[0].key().c_str());
}
