// The local bus between spweb and spd: round trips, concurrent callers, a silent or absent
// spd, spd restarted, queues left behind by a crashed process, results too large.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ipc/local_bus.hpp"
#include "platform/privilege.hpp"
#include "tests/unit/platform/dropped_child.hpp"
#include "tests/unit/platform/foreign_shm.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace bip = boost::interprocess;

namespace {

std::string uniqueQueueName() {
  static std::atomic<int> counter{0};
  return "dualsp-ut-bus-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

proto::Command command(const std::string& name, const std::string& n = "") {
  proto::Command c;
  c.set_name(name);
  c.set_target(proto::SP_B);
  if (!n.empty()) (*c.mutable_args())["n"] = n;
  c.mutable_caller()->set_origin("web 198.18.0.100");
  return c;
}

// Answers every command at once: error = "<name>/<arg n>/<tag>", with an SpStatus body.
LocalBusServer::Handler echo(std::string tag) {
  return [tag](const proto::Command& c, LocalBusServer::Reply reply) {
    proto::CommandResult r;
    r.set_status(proto::CommandResult::OK);
    auto n = c.args().find("n");
    r.set_error(c.name() + "/" + (n == c.args().end() ? "" : n->second) + "/" + tag);
    r.set_answered_by(c.target());
    r.set_served_by(proto::SP_A);
    r.mutable_sp_status()->set_epoch(12);
    r.mutable_sp_status()->set_boot_id(c.caller().origin());
    reply(r);
  };
}

long msSince(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

}  // namespace

TEST_GROUP(LocalBus) {
  std::string name;
  void setup() override {
    name = uniqueQueueName();
  }
  void teardown() override {
    bip::message_queue::remove(name.c_str());
    bip::message_queue::remove((name + "-reply-" + std::to_string(getpid())).c_str());
  }
};

TEST(LocalBus, QueueNameNamesArrayAndSp) {
  STRCMP_EQUAL("dualsp-sp-pair-spa-bus", busRequestQueueName("sp-pair", SpId::A).c_str());
  STRCMP_EQUAL("dualsp-x-spb-bus", busRequestQueueName("x", SpId::B).c_str());
}

TEST(LocalBus, RoundTrip) {
  LocalBusServer server(name, echo("s1"));
  server.start();
  LocalBusClient client(name);
  STRCMP_EQUAL((name + "-reply-" + std::to_string(getpid())).c_str(),
               client.replyQueueName().c_str());
  auto result = client.call(command("GetSpStatus", "7"), 1000ms);
  CHECK(result.has_value());
  LONGS_EQUAL(proto::CommandResult::OK, result->status());
  STRCMP_EQUAL("GetSpStatus/7/s1", result->error().c_str());
  LONGS_EQUAL(proto::SP_B, result->answered_by());
  LONGS_EQUAL(proto::SP_A, result->served_by());
  CHECK(result->has_sp_status());
  LONGS_EQUAL(12, result->sp_status().epoch());
  STRCMP_EQUAL("web 198.18.0.100", result->sp_status().boot_id().c_str());
}

TEST(LocalBus, ConcurrentCallersEachGetTheirOwnAnswer) {
  // Replies come from other threads, in another order than the requests.
  std::mutex mutex;
  std::vector<std::thread> repliers;
  LocalBusServer server(name, [&](const proto::Command& c, LocalBusServer::Reply reply) {
    std::lock_guard<std::mutex> lock(mutex);
    const int n = std::stoi(c.args().at("n"));
    repliers.emplace_back([n, reply, name = c.name()] {
      std::this_thread::sleep_for(std::chrono::milliseconds((19 - n) % 7));
      proto::CommandResult r;
      r.set_error(name + "/" + std::to_string(n));
      reply(r);
    });
  });
  server.start();
  LocalBusClient client(name);
  constexpr int kCallers = 20;
  std::vector<std::string> answers(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&, i] {
      auto r = client.call(command("GetLog", std::to_string(i)), 3000ms);
      answers[static_cast<size_t>(i)] = r ? r->error() : "none";
    });
  }
  for (auto& t : callers) t.join();
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto& t : repliers) t.join();
  }
  for (int i = 0; i < kCallers; ++i)
    STRCMP_EQUAL(("GetLog/" + std::to_string(i)).c_str(), answers[static_cast<size_t>(i)].c_str());
}

TEST(LocalBus, ServerThatNeverRepliesTimesOut) {
  std::atomic<int> seen{0};
  LocalBusServer server(name, [&](const proto::Command&, LocalBusServer::Reply) { ++seen; });
  server.start();
  LocalBusClient client(name);
  auto start = Clock::now();
  // Sent and not answered: not "never sent" (nullopt), since spd may have carried it out.
  std::optional<proto::CommandResult> r = client.call(command("GetSpStatus"), 200ms);
  const long took = msSince(start);
  CHECK_TEXT(took >= 195 && took < 450, ("took " + std::to_string(took) + " ms").c_str());
  CHECK(r.has_value());
  CHECK_EQUAL(proto::CommandResult::UNANSWERED, r->status());
  CHECK(r->error().find("did not answer within 200 ms") != std::string::npos);
  LONGS_EQUAL(1, seen.load());
}

TEST(LocalBus, NoServerIsNulloptAtOnce) {
  LocalBusClient client(name);
  auto start = Clock::now();
  CHECK_FALSE(client.call(command("GetSpStatus"), 2000ms).has_value());
  CHECK(msSince(start) < 100);
}

TEST(LocalBus, ServerRestartedIsFoundAgain) {
  LocalBusClient client(name);
  {
    LocalBusServer first(name, echo("first"));
    first.start();
    STRCMP_EQUAL("Ping//first", client.call(command("Ping"), 1000ms)->error().c_str());
  }
  CHECK_FALSE(client.call(command("Ping"), 200ms).has_value());  // spd down
  LocalBusServer second(name, echo("second"));
  second.start();
  auto r = client.call(command("Ping"), 1000ms);
  CHECK(r.has_value());
  STRCMP_EQUAL("Ping//second", r->error().c_str());
}

// spd crashed (its queue left behind, still mapped by nobody who reads it) and started again:
// the client must send to the new queue, not the old one it had open.
TEST(LocalBus, ServerRecreatedUnderTheSameNameIsUsedAtOnce) {
  LocalBusClient client(name);
  LocalBusServer first(name, echo("first"));
  first.start();
  STRCMP_EQUAL("Ping//first", client.call(command("Ping"), 1000ms)->error().c_str());
  first.stop();  // hung: its queue still exists until the new spd replaces it
  LocalBusServer second(name, echo("second"));
  second.start();
  auto start = Clock::now();
  auto r = client.call(command("Ping"), 1000ms);
  CHECK(r.has_value());
  STRCMP_EQUAL("Ping//second", r->error().c_str());
  CHECK(msSince(start) < 500);
}

TEST(LocalBus, RecreatedWhileRunningTheClientMovesToTheNewQueue) {
  // spd recreates its queue when an spweb ends (it may have died holding the queue's lock).
  LocalBusServer server(name, echo("s"));
  server.start();
  LocalBusClient client(name);
  STRCMP_EQUAL("Ping//s", client.call(command("Ping"), 1000ms)->error().c_str());
  // A request left in the old queue is dropped with it, not answered late on the new one.
  server.recreate();
  auto start = Clock::now();
  auto r = client.call(command("Ping", "2"), 1000ms);
  CHECK(r.has_value());
  STRCMP_EQUAL("Ping/2/s", r->error().c_str());
  CHECK(msSince(start) < 500);
}

// Chaos seeds 5 and 7: an spweb killed (kill -9) in the middle of a send left the queue's
// lock held for ever, and spd's bus (and, when spd joined its receive thread, spd's main loop)
// with it. Children hammer the queue and are killed at random moments; after each, the server
// is recreated as spd does when its spweb ends, and must answer again at once.
TEST(LocalBus, AClientKilledInTheMiddleOfASendNeverSilencesTheBus) {
  LocalBusServer server(name, echo("s"));
  server.start();
  LocalBusClient client(name);
  for (int round = 0; round < 40; ++round) {
    pid_t child = fork();
    if (child == 0) {
      try {
        bip::message_queue q(bip::open_only, name.c_str());
        const std::string junk(64, 'x');
        for (;;) q.try_send(junk.data(), junk.size(), 0);  // takes and releases the lock
      } catch (...) {
      }
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500 + 250 * (round % 8)));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    auto start = Clock::now();
    server.recreate();
    auto r = client.call(command("Ping", std::to_string(round)), 2000ms);
    CHECK_TRUE_TEXT(r.has_value(), ("round " + std::to_string(round)).c_str());
    STRCMP_EQUAL(("Ping/" + std::to_string(round) + "/s").c_str(), r->error().c_str());
    CHECK(msSince(start) < 1500);
  }
}

TEST(LocalBus, StaleQueuesOfACrashedSideAreRecovered) {
  const std::string reply_name = name + "-reply-" + std::to_string(getpid());
  {
    // Left behind by a crash: other sizes, and messages nobody will read.
    bip::message_queue stale_request(bip::create_only, name.c_str(), 1, 16);
    bip::message_queue stale_reply(bip::create_only, reply_name.c_str(), 1, 16);
    stale_request.send("junk", 4, 0);
    stale_reply.send("junk", 4, 0);
  }
  LocalBusServer server(name, echo("fresh"));
  server.start();
  LocalBusClient client(name);
  auto r = client.call(command("GetSpStatus", "1"), 1000ms);  // a reply far above 16 bytes
  CHECK(r.has_value());
  STRCMP_EQUAL("GetSpStatus/1/fresh", r->error().c_str());
}

TEST(LocalBus, ResultTooLargeIsAnInternalErrorNotAHang) {
  LocalBusServer server(name, [](const proto::Command&, LocalBusServer::Reply reply) {
    proto::CommandResult r;
    r.set_answered_by(proto::SP_A);
    for (int i = 0; i < 3000; ++i) r.mutable_log()->add_lines(std::string(100, 'x'));
    reply(r);
  });
  server.start();
  LocalBusClient client(name);
  auto start = Clock::now();
  auto r = client.call(command("GetLog"), 2000ms);
  CHECK(msSince(start) < 1000);
  CHECK(r.has_value());
  LONGS_EQUAL(proto::CommandResult::INTERNAL, r->status());
  STRCMP_CONTAINS("too large", r->error().c_str());
  LONGS_EQUAL(proto::SP_A, r->answered_by());
  CHECK_FALSE(r->has_log());
}

TEST(LocalBus, LateReplyFromAnotherThreadAndOnlyOnce) {
  std::vector<std::thread> later;
  LocalBusServer server(name, [&](const proto::Command& c, LocalBusServer::Reply reply) {
    later.emplace_back([reply] {
      std::this_thread::sleep_for(30ms);
      proto::CommandResult first;
      first.set_error("first");
      reply(first);
      proto::CommandResult second;
      second.set_error("second");
      reply(second);  // ignored
    });
  });
  server.start();
  LocalBusClient client(name);
  STRCMP_EQUAL("first", client.call(command("ResetSp"), 1000ms)->error().c_str());
  STRCMP_EQUAL("first", client.call(command("ResetSp"), 1000ms)->error().c_str());
  server.stop();
  for (auto& t : later) t.join();
}

TEST(LocalBus, AHandlerExceptionIsAnInternalError) {
  LocalBusServer server(
      name, [](const proto::Command&, LocalBusServer::Reply) { throw std::runtime_error("boom"); });
  server.start();
  LocalBusClient client(name);
  auto r = client.call(command("GetSpStatus"), 1000ms);
  CHECK(r.has_value());
  LONGS_EQUAL(proto::CommandResult::INTERNAL, r->status());
  STRCMP_CONTAINS("boom", r->error().c_str());
}

TEST(LocalBus, StopIsPromptAndTheQueueGoesWithTheServer) {
  auto server = std::make_unique<LocalBusServer>(name, echo("s"));
  server->start();
  auto start = Clock::now();
  server->stop();
  CHECK(msSince(start) < 300);
  server.reset();
  CHECK_THROWS(bip::interprocess_exception, bip::message_queue(bip::open_only, name.c_str()));
}

// spweb's stop (docs/WEB.md "Stopping"): a call waiting for spd returns at once, not after
// its timeout (a configuration change may wait seconds in spd).
TEST(LocalBus, CloseWakesACallWaitingForSpd) {
  std::atomic<int> seen{0};
  LocalBusServer server(name, [&](const proto::Command&, LocalBusServer::Reply) { ++seen; });
  server.start();
  LocalBusClient client(name);
  std::atomic<bool> returned{false};
  std::optional<proto::CommandResult> answer;
  std::thread caller([&] {
    answer = client.call(command("ConfigWrite"), 6000ms);
    returned = true;
  });
  const auto deadline = Clock::now() + 5s;
  while (seen.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(2ms);
  LONGS_EQUAL(1, seen.load());
  CHECK_FALSE(returned.load());
  CHECK_FALSE(client.closed());

  const auto start = Clock::now();
  client.close();
  caller.join();
  const long took = msSince(start);
  CHECK_TEXT(took < 100, ("took " + std::to_string(took) + " ms").c_str());
  // spd received it: its outcome is unknown (UNANSWERED), not "never sent" (nullopt).
  CHECK(answer.has_value());
  CHECK_EQUAL(proto::CommandResult::UNANSWERED, answer->status());
  CHECK(answer->error().find("stopped waiting") != std::string::npos);
  CHECK(client.closed());
  client.close();  // twice is harmless
}

// Once closed, nothing more reaches spd: a call returns at once without sending.
TEST(LocalBus, AClosedClientSendsNothing) {
  LocalBusServer server(name, echo("x"));  // not started: what is sent stays in its queue
  LocalBusClient client(name);
  client.close();
  const auto start = Clock::now();
  CHECK_FALSE(client.call(command("ResetSp"), 2000ms).has_value());
  CHECK(msSince(start) < 100);
  bip::message_queue queue(bip::open_only, name.c_str());
  LONGS_EQUAL(0, queue.get_num_msg());
}

// Issue 13: bus queues were 0644, so any local user read every request and answer.
TEST(LocalBus, QueuesAreForTheirOwnerOnly) {
  LocalBusServer server(name, echo("s1"));
  LocalBusClient client(name);
  for (const std::string& q : {name, client.replyQueueName()}) {
    struct stat st = test::statShm(q);
    CHECK_EQUAL(::geteuid(), st.st_uid);
    CHECK_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
  }
}

// A request queue another user made (waiting for spweb's commands before spd is up) is never
// sent to: the call fails at once, as with no server.
TEST(LocalBus, ARequestQueueSomeoneElseMadeGetsNothing) {
  if (::geteuid() != 0) return;  // chown needs root
  bip::message_queue trap(bip::create_only, name.c_str(), 8, 4096, bip::permissions(0666));
  CHECK_EQUAL(0, ::chown(("/dev/shm/" + name).c_str(), test::kNobody, test::kNobody));
  LocalBusClient client(name);
  CHECK_FALSE(client.call(command("GetSpStatus"), 200ms).has_value());
  CHECK_EQUAL(0u, trap.get_num_msg());
}

// spweb runs unprivileged once bound (docs/SECURITY.md "What runs as whom"). spd, root, gives
// its request queue to the web group (0660); spweb, still root, gives its reply queue to the
// web user (0600), drops, and only then opens spd's queue, as it does again whenever spd
// restarted. spd answers the reply queue the web user owns.
TEST(LocalBus, AClientThatDroppedRootToTheWebUserIsAnswered) {
  if (::geteuid() != 0) return;  // only root gives a queue away and drops
  const platform::UnixIdentity web = test::kTestWebIdentity;
  LocalBusServer server(name, echo("s1"), web);
  server.start();
  struct stat st = test::statShm(name);
  CHECK_EQUAL(0u, st.st_uid);
  CHECK_EQUAL(web.gid, st.st_gid);
  CHECK_EQUAL(0660u, static_cast<unsigned>(st.st_mode & 07777));
  const std::string request_queue = name;
  std::string outcome = test::inChild([request_queue, web]() -> std::string {
    auto client = std::make_unique<LocalBusClient>(request_queue, web);
    struct stat reply = test::statShm(client->replyQueueName());
    if (reply.st_uid != web.uid || (reply.st_mode & 07777) != 0600)
      return "the reply queue is not the web user's, 0600";
    if (std::string why = platform::dropPrivileges(web); !why.empty()) return "drop: " + why;
    auto result = client->call(command("GetSpStatus", "9"), 2000ms);
    if (!result) return "no answer after the drop";
    if (result->error() != "GetSpStatus/9/s1") return "wrong answer " + result->error();
    client.reset();  // removes its reply queue: the web user's own
    // A client made after the drop (its reply queue created by the web user) too.
    client = std::make_unique<LocalBusClient>(request_queue, web);
    if (!client->call(command("GetSpStatus", "10"), 2000ms)) return "no answer to a new client";
    return {};
  });
  STRCMP_EQUAL("ok", outcome.c_str());
  server.recreate();  // spd's queue made anew is shared the same way
  st = test::statShm(name);
  CHECK_EQUAL(web.gid, st.st_gid);
  CHECK_EQUAL(0660u, static_cast<unsigned>(st.st_mode & 07777));
}

// And nothing broader: a request queue with the web group that others may use too, or with
// another group, gets nothing from a client that trusts the web group.
TEST(LocalBus, ARequestQueueSharedMoreBroadlyOrWithAnotherGroupGetsNothing) {
  if (::geteuid() != 0) return;  // chown needs root
  const platform::UnixIdentity web = test::kTestWebIdentity;
  bip::message_queue trap(bip::create_only, name.c_str(), 8, 4096, bip::permissions(0600));
  const std::string path = "/dev/shm/" + name;
  LocalBusClient client(name, web);
  for (auto [gid, mode] : {std::pair<gid_t, mode_t>{web.gid, 0666},
                           {web.gid, 0662},
                           {test::kNobody, 0660},
                           {web.gid, 0670}}) {
    CHECK_EQUAL(0, ::chown(path.c_str(), 0, gid));
    CHECK_EQUAL(0, ::chmod(path.c_str(), mode));
    CHECK_FALSE(client.call(command("GetSpStatus"), 100ms).has_value());
    CHECK_EQUAL(0u, trap.get_num_msg());
  }
  // The one spd makes is used (nobody answers this one: sent, then UNANSWERED).
  CHECK_EQUAL(0, ::chmod(path.c_str(), 0660));
  CHECK_EQUAL(0, ::chown(path.c_str(), 0, web.gid));
  std::optional<proto::CommandResult> sent = client.call(command("GetSpStatus"), 100ms);
  CHECK(sent.has_value());
  CHECK_EQUAL(proto::CommandResult::UNANSWERED, sent->status());
  CHECK_EQUAL(1u, trap.get_num_msg());
}

// spd answers reply queues of root's, its own user's and the web user's, all 0600; not one of
// another user's, nor the web user's open to its group.
TEST(LocalBus, SpdAnswersOnlyTheWebUsersPrivateReplyQueue) {
  if (::geteuid() != 0) return;  // chown needs root
  const platform::UnixIdentity web = test::kTestWebIdentity;
  LocalBusServer server(name, echo("s1"), web);
  server.start();
  LocalBusClient client(name, web);  // root: its reply queue is given to the web user
  const std::string reply = "/dev/shm/" + client.replyQueueName();
  CHECK_EQUAL(web.uid, test::statShm(client.replyQueueName()).st_uid);
  std::optional<proto::CommandResult> first = client.call(command("GetSpStatus"), 1000ms);
  CHECK_TRUE(first.has_value() && first->status() == proto::CommandResult::OK);
  // spd refuses to answer into these: the call was sent and goes unanswered.
  auto unanswered = [&] {
    std::optional<proto::CommandResult> r = client.call(command("GetSpStatus"), 200ms);
    return r.has_value() && r->status() == proto::CommandResult::UNANSWERED;
  };
  CHECK_EQUAL(0, ::chmod(reply.c_str(), 0640));
  CHECK_TRUE(unanswered());
  CHECK_EQUAL(0, ::chmod(reply.c_str(), 0600));
  CHECK_EQUAL(0, ::chown(reply.c_str(), test::kNobody, test::kNobody));
  CHECK_TRUE(unanswered());
  CHECK_EQUAL(0, ::chown(reply.c_str(), web.uid, web.gid));
  std::optional<proto::CommandResult> answered = client.call(command("GetSpStatus"), 1000ms);
  CHECK(answered.has_value());
  CHECK_EQUAL(proto::CommandResult::OK, answered->status());
}
