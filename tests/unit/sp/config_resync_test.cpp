// Resync alone: the passive's offer (from the lower of both sync points, in pages), its
// install (incremental only where it fits, full copies in order), and the active's whole
// resync against a scripted passive.

#include "sp/config_resync.hpp"

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

namespace {

ConfigServiceDependencies passiveDeps() {
  auto deps = activeDeps(SpId::B, nullptr);
  deps.role = [] { return Role::Passive; };
  return deps;
}

proto::ReplicateAnswer installAnswer(const Captured& c) {
  proto::ReplicateAnswer a;
  a.ParseFromString(c.result->payload());
  return a;
}

}  // namespace

TEST_GROUP(ConfigResync) {
  TempDir tmp;
};

TEST(ConfigResync, TheOfferRequestRoundTrips) {
  auto text = ConfigResync::offerPayload(true, Version{2, 7}, Version{2, 5});
  STRCMP_EQUAL("all after 2.7 shared 2.5", text.c_str());
  auto parsed = ConfigResync::parseOfferPayload(text);
  CHECK_TRUE(parsed.everything);
  CHECK_TRUE(parsed.after == (Version{2, 7}));
  CHECK_TRUE(parsed.shared == (Version{2, 5}));
  auto plain = ConfigResync::parseOfferPayload("shared 1.1");
  CHECK_FALSE(plain.everything);
  CHECK_FALSE(plain.after.has_value());
}

TEST(ConfigResync, AnOfferStartsAtTheLowerOfBothSyncPointsAndComesInPages) {
  auto core = openCore(tmp.path, passiveDeps());
  const std::string big(100 * 1024, 'x');
  for (uint64_t i = 1; i <= 6; ++i)
    CHECK_TRUE(core->store.commit({record("k" + std::to_string(i), big, {1, i})}).ok);
  ConfigResync resync(*core);
  auto first = resync.makeOffer(false, std::nullopt, Version{1, 2});
  CHECK_TRUE(fromProtoVersion(first.sync_point()) == (Version{1, 2}));
  CHECK_TRUE(first.more());  // 400 KiB after the point: more than a part
  auto last = versionOf(*first.divergent().rbegin());
  auto rest = resync.makeOffer(false, last, Version{1, 2});
  CHECK_FALSE(rest.more());
  CHECK_EQUAL(4, first.divergent_size() + rest.divergent_size());
}

TEST(ConfigResync, AnIncrementalInstallThatDoesNotFitIsRefused) {
  auto core = openCore(tmp.path, passiveDeps());
  CHECK_TRUE(core->store.commit({record("a", "1", {1, 1})}).ok);
  ConfigResync resync(*core);
  proto::SyncInstall install;
  *install.mutable_prev() = toProtoVersion({1, 5});
  *install.add_records() = record("b", "2", {1, 6});
  Captured c;
  resync.applyInstall(install, c.reply());
  CHECK_FALSE(installAnswer(c).applied());
  CHECK_FALSE(core->store.get("b").has_value());
}

TEST(ConfigResync, AFullCopyIsStagedAndInstalledWithItsLastPartOnlyInOrder) {
  auto core = openCore(tmp.path, passiveDeps());
  CHECK_TRUE(core->saveSyncPoint({1, 0}).ok);
  ConfigResync resync(*core);
  proto::SyncInstall part;
  part.set_full(true);
  part.set_more(true);
  *part.mutable_snapshot()->mutable_last() = toProtoVersion({2, 2});
  *part.mutable_snapshot()->add_records() = record("a", "1", {2, 1});
  Captured c0;
  resync.applyInstall(part, c0.reply());
  CHECK_TRUE(installAnswer(c0).applied());
  CHECK_FALSE(core->store.get("a").has_value());  // nothing changes before the last part
  part.set_part(1);
  part.set_more(false);
  part.mutable_snapshot()->clear_records();
  *part.mutable_snapshot()->add_records() = record("b", "2", {2, 2});
  Captured c1;
  resync.applyInstall(part, c1.reply());
  CHECK_TRUE(installAnswer(c1).applied());
  CHECK_TRUE(core->store.get("a").has_value());
  CHECK_TRUE(core->store.get("b").has_value());
  CHECK_FALSE(core->has_marker);  // in line with the active: the sync point goes
  Captured late;
  part.set_part(5);
  resync.applyInstall(part, late.reply());
  CHECK_FALSE(installAnswer(late).applied());
}

TEST(ConfigResync, TheActiveMergesThePassivesOwnChangesThenSendsAFullCopy) {
  ScriptedPeer peer;
  auto core = openCore(tmp.path, activeDeps(SpId::A, &peer));
  CHECK_TRUE(core->store.commit({record("a", "1", {1, 1})}).ok);
  core->synced = {1, 1};
  std::vector<std::string> names;
  peer.answer = [&](const proto::Command& c) {
    names.push_back(c.name());
    if (c.name() == "ConfigSyncOffer") {
      proto::SyncOffer offer;
      *offer.mutable_sync_point() = toProtoVersion({1, 1});
      *offer.mutable_last() = toProtoVersion({1, 2});
      *offer.add_divergent() = record("b", "2", {1, 2}, proto::SP_B);
      return okAnswer(offer.SerializeAsString());
    }
    proto::SyncInstall install;
    install.ParseFromString(c.payload());
    CHECK_TRUE(install.full());
    proto::ReplicateAnswer a;
    a.set_applied(true);
    return okAnswer(a.SerializeAsString());
  };
  ConfigResync resync(*core);
  CHECK_TRUE(resync.resyncNow());
  CHECK_EQUAL(2u, names.size());
  STRCMP_EQUAL("ConfigSyncInstall", names[1].c_str());
  STRCMP_EQUAL("2", core->store.get("b")->value().c_str());
  CHECK_TRUE(core->peer_in_sync);
  CHECK_EQUAL(1u, core->stats.resyncs);
  CHECK_FALSE(core->has_marker);
}

TEST(ConfigResync, ALinkThatNeverSentTheOfferIsAskedAgainAtOnce) {
  ScriptedPeer peer;  // answers nothing: NotConnected
  auto core = openCore(tmp.path, activeDeps(SpId::A, &peer));
  ConfigResync resync(*core);
  CHECK_FALSE(resync.resyncNow());
  CHECK_FALSE(resync.resyncIfDue());  // no backoff after a request that never left
  CHECK_EQUAL(2u, peer.sent.size());
}
