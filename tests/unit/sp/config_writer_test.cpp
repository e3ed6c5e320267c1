// The writer alone, against a scripted passive: a change is journaled here only after the
// passive confirmed it; a passive's disk refusal (its errno) is a 507 applied nowhere; a change
// without confirmation is an unknown outcome, not journaled here; the passive side refuses
// an older epoch and reports its own full disk with the errno.

#include "sp/config_writer.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "CppUTest/TestHarness.h"
#include "config_test_support.hpp"

using namespace dualsp;
using namespace dualsp::sp;
using namespace dualsp::sp::testing;

namespace {

proto::ConfigWrite oneChange(const std::string& key, const std::string& value) {
  proto::ConfigWrite w;
  auto* r = w.add_records();
  r->set_key(key);
  r->set_value(value);
  w.mutable_event()->set_message(key + " = " + value);
  return w;
}

PeerTransport::Answer replicateAnswer(bool applied, const std::string& error = "", int err = 0) {
  proto::ReplicateAnswer a;
  a.set_applied(applied);
  a.set_error(error);
  a.set_sys_errno(err);
  return okAnswer(a.SerializeAsString());
}

}  // namespace

TEST_GROUP(ConfigWriter) {
  TempDir tmp;
  ScriptedPeer peer;
  std::unique_ptr<ConfigCore> core;
  std::unique_ptr<ConfigTakeover> takeover;
  std::unique_ptr<ConfigWriter> writer;
  void setup() override {
    core = openCore(tmp.path, activeDeps(SpId::A, &peer));
    CHECK_TRUE(core != nullptr);
    core->peer_in_sync = true;
    takeover = std::make_unique<ConfigTakeover>(*core);
    writer = std::make_unique<ConfigWriter>(*core, *takeover, [] { return false; });
  }
  proto::CommandResult write(const std::string& key, const std::string& value) {
    Captured answer;
    writer->writeAsActive(oneChange(key, value),
                          std::chrono::steady_clock::now() + core->options.change_wait,
                          answer.reply());
    CHECK_TRUE(answer.result.has_value());
    return *answer.result;
  }
};

TEST(ConfigWriter, AChangeIsJournaledOnlyAfterThePassiveConfirmedIt) {
  bool held_here_when_sent = true;
  peer.answer = [&](const proto::Command& c) {
    STRCMP_EQUAL("ConfigReplicate", c.name().c_str());
    held_here_when_sent = core->store.get("tag").has_value();
    return replicateAnswer(true);
  };
  auto result = write("tag", "\"x\"");
  CHECK_EQUAL(proto::CommandResult::OK, result.status());
  CHECK_FALSE(held_here_when_sent);
  CHECK_TRUE(core->store.get("tag").has_value());
  proto::ConfigWriteAnswer answer;
  answer.ParseFromString(result.payload());
  CHECK_TRUE(answer.replicated());
  CHECK_EQUAL(1u, core->stats.replicated);
  CHECK_EQUAL(1u, core->lastStoredEventId());  // the change's event, id 1
}

TEST(ConfigWriter, APassivesFullDiskIsInsufficientStorageOnItsErrnoAndAppliedNowhere) {
  // The text says nothing of a full disk: only the errno does.
  peer.answer = [](const proto::Command&) { return replicateAnswer(false, "refused", ENOSPC); };
  auto result = write("tag", "\"x\"");
  CHECK_EQUAL(proto::CommandResult::INSUFFICIENT_STORAGE, result.status());
  CHECK_FALSE(core->store.get("tag").has_value());
}

TEST(ConfigWriter, AnotherRefusalIsRetriedAfterAResyncThenRefusedWithNothingApplied) {
  peer.answer = [](const proto::Command&) { return replicateAnswer(false, "out of sync", EIO); };
  auto result = write("tag", "\"x\"");
  CHECK_EQUAL(proto::CommandResult::UNAVAILABLE, result.status());
  CHECK_TRUE(result.error().find("out of sync") != std::string::npos);
  CHECK_FALSE(core->store.get("tag").has_value());
}

TEST(ConfigWriter, AChangeWithoutConfirmationIsAnUnknownOutcomeAndNotJournaledHere) {
  peer.answer = [](const proto::Command&) {
    return PeerTransport::Answer{std::nullopt, ipc::PeerError::Timeout};
  };
  auto result = write("tag", "\"x\"");
  CHECK_EQUAL(proto::CommandResult::TIMEOUT, result.status());
  CHECK_FALSE(core->store.get("tag").has_value());
  CHECK_TRUE(core->peer_needs_full_copy);
  CHECK_EQUAL(1u, core->stats.in_doubt);
}

TEST(ConfigWriter, WithThePeerDeclaredDeadTheChangeIsHeldAloneWithASyncPointOnDisk) {
  auto deps = activeDeps(SpId::A, &peer);
  deps.peer_alive = [] { return false; };
  TempDir other;
  core = openCore(other.path, deps);
  takeover = std::make_unique<ConfigTakeover>(*core);
  writer = std::make_unique<ConfigWriter>(*core, *takeover, [] { return false; });
  auto result = write("tag", "\"alone\"");
  CHECK_EQUAL(proto::CommandResult::OK, result.status());
  CHECK_TRUE(peer.sent.empty());
  CHECK_TRUE(core->has_marker);
  CHECK_TRUE(std::filesystem::exists(other.path + "/sync.point"));
}

TEST(ConfigWriter, AKeyedChangeRecordsItsKeyInTheSameReplicatedChange) {
  // What makes a retry after a failover safe: if the change is on the survivor, so is its key.
  proto::ReplicateRequest sent;
  peer.answer = [&](const proto::Command& c) {
    sent.ParseFromString(c.payload());
    return replicateAnswer(true);
  };
  proto::ConfigWrite change = oneChange("tag", "\"x\"");
  change.mutable_idempotency()->set_id("ab12");
  change.mutable_idempotency()->set_fp("cd34");
  change.mutable_idempotency()->set_attempt("first");
  Captured answer;
  writer->writeAsActive(change, std::chrono::steady_clock::now() + core->options.change_wait,
                        answer.reply());
  CHECK_EQUAL(proto::CommandResult::OK, answer.result->status());
  // One replication: the record, the key's marker, the event.
  CHECK_EQUAL(3, sent.records_size());
  STRCMP_EQUAL("tag", sent.records(0).key().c_str());
  STRCMP_EQUAL("idempotency/ab12", sent.records(1).key().c_str());
  auto marker = nlohmann::json::parse(sent.records(1).value());
  STRCMP_EQUAL("applied", marker["state"].get<std::string>().c_str());
  STRCMP_EQUAL("cd34", marker["fp"].get<std::string>().c_str());
  STRCMP_EQUAL("first", marker["attempt"].get<std::string>().c_str());
  CHECK_TRUE(core->store.get("idempotency/ab12").has_value());

  // Another attempt with the key (it raced the first across a failover) changes nothing.
  change = oneChange("tag", "\"y\"");
  change.mutable_idempotency()->set_id("ab12");
  change.mutable_idempotency()->set_fp("cd34");
  change.mutable_idempotency()->set_attempt("second");
  Captured again;
  const auto before = core->store.last();
  writer->writeAsActive(change, std::chrono::steady_clock::now() + core->options.change_wait,
                        again.reply());
  CHECK_EQUAL(proto::CommandResult::BAD_REQUEST, again.result->status());
  STRCMP_EQUAL("IdempotencyKeyApplied", again.result->message_key().c_str());
  STRCMP_EQUAL("\"x\"", core->store.get("tag")->value().c_str());
  CHECK_TRUE(before == core->store.last());

  // The first attempt's own later changes go through (a handler may send more than one).
  change.mutable_idempotency()->set_attempt("first");
  Captured same;
  writer->writeAsActive(change, std::chrono::steady_clock::now() + core->options.change_wait,
                        same.reply());
  CHECK_EQUAL(proto::CommandResult::OK, same.result->status());
}

TEST(ConfigWriter, AKeyedCreateNamesWhatItCreatedInItsMarker) {
  peer.answer = [](const proto::Command&) { return replicateAnswer(true); };
  proto::ConfigWrite change;
  change.add_records()->set_value("{}");
  change.set_create_prefix("subscriptions/");
  change.mutable_idempotency()->set_id("ee");
  change.mutable_idempotency()->set_fp("ff");
  change.mutable_idempotency()->set_attempt("a");
  Captured answer;
  writer->writeAsActive(change, std::chrono::steady_clock::now() + core->options.change_wait,
                        answer.reply());
  CHECK_EQUAL(proto::CommandResult::OK, answer.result->status());
  proto::ConfigWriteAnswer written;
  written.ParseFromString(answer.result->payload());
  const std::string id = written.keys(0).substr(std::string("subscriptions/").size());
  auto marker = nlohmann::json::parse(core->store.get("idempotency/ee")->value());
  STRCMP_EQUAL(id.c_str(), marker["created"].get<std::string>().c_str());
}

TEST(ConfigWriter, ThePassiveRefusesAChangeFromAnOlderEpoch) {
  auto deps = activeDeps(SpId::B, nullptr);
  deps.role = [] { return Role::Passive; };
  deps.epoch = [] { return uint64_t{3}; };
  TempDir other;
  core = openCore(other.path, deps);
  takeover = std::make_unique<ConfigTakeover>(*core);
  writer = std::make_unique<ConfigWriter>(*core, *takeover, [] { return false; });
  proto::ReplicateRequest request;
  request.set_epoch(2);
  *request.add_records() = record("k", "v", {2, 1});
  Captured answer;
  writer->applyReplicate(request, answer.reply());
  proto::ReplicateAnswer replicated;
  CHECK_TRUE(replicated.ParseFromString(answer.result->payload()));
  CHECK_FALSE(replicated.applied());
  CHECK_TRUE(replicated.error().find("epoch") != std::string::npos);
  CHECK_FALSE(core->store.get("k").has_value());
}

TEST(ConfigWriter, ThePassiveReportsItsFullDiskWithTheErrno) {
  int rc = inFullFilesystem([](const std::string& mount) {
    auto deps = activeDeps(SpId::B, nullptr);
    deps.role = [] { return Role::Passive; };
    bool storage_fault = false;
    deps.fault = [&](const std::string& id, bool raised, const std::string&, const std::string&,
                     Health) { storage_fault |= raised && id == "config-storage"; };
    auto core = openCore(mount + "/config", deps);
    if (!core) return 1;
    ConfigTakeover takeover(*core);
    ConfigWriter writer(*core, takeover, [] { return false; });
    fillUp(mount);
    proto::ReplicateRequest request;
    request.set_epoch(1);
    *request.add_records() = record("k", std::string(8192, 'x'), {1, 1});
    Captured answer;
    writer.applyReplicate(request, answer.reply());
    proto::ReplicateAnswer replicated;
    if (!answer.result || !replicated.ParseFromString(answer.result->payload())) return 2;
    if (replicated.applied() || replicated.sys_errno() != ENOSPC) return 3;
    return storage_fault ? 0 : 4;
  });
  if (rc == -1) {
    UT_PRINT("NOT RUN: mounting a small tmpfs needs CAP_SYS_ADMIN (run as root)");
    return;
  }
  CHECK_EQUAL(0, rc);
}

TEST(ConfigWriter, TheActivesFullDiskIsInsufficientStorageOnItsErrnoWithAFault) {
  int rc = inFullFilesystem([](const std::string& mount) {
    ScriptedPeer passive;
    passive.answer = [](const proto::Command&) { return replicateAnswer(true); };
    auto deps = activeDeps(SpId::A, &passive);
    bool storage_fault = false;
    deps.fault = [&](const std::string& id, bool raised, const std::string&, const std::string&,
                     Health) { storage_fault |= raised && id == "config-storage"; };
    auto core = openCore(mount + "/config", deps);
    if (!core) return 1;
    core->peer_in_sync = true;
    ConfigTakeover takeover(*core);
    ConfigWriter writer(*core, takeover, [] { return false; });
    fillUp(mount);
    Captured answer;
    writer.writeAsActive(oneChange("big", std::string(8192, 'x')),
                         std::chrono::steady_clock::now() + std::chrono::milliseconds{200},
                         answer.reply());
    if (!answer.result) return 2;
    if (answer.result->status() != proto::CommandResult::INSUFFICIENT_STORAGE) return 3;
    // The passive journaled it: its copy goes with the next resync (a full copy).
    if (!core->peer_needs_full_copy || core->store.get("big")) return 4;
    return storage_fault ? 0 : 5;
  });
  if (rc == -1) {
    UT_PRINT("NOT RUN: mounting a small tmpfs needs CAP_SYS_ADMIN (run as root)");
    return;
  }
  CHECK_EQUAL(0, rc);
}
