// The peer-only commands have a registry of their own: a client (the router, the local bus)
// cannot reach a peer-only handler, a request on the peer link reaches it, client commands
// the peer forwarded still go through the router, and no name can be in both registries.

#include "sp/peer_commands.hpp"

#include <stdexcept>

#include "CppUTest/TestHarness.h"

using namespace dualsp;
using namespace dualsp::sp;

namespace {

class NoPeer : public PeerTransport {
 public:
  void send(const proto::Command&, std::chrono::milliseconds,
            std::function<void(Answer)> done) override {
    done(Answer{std::nullopt, ipc::PeerError::NotConnected});
  }
};

proto::Command named(const std::string& name) {
  proto::Command c;
  c.set_name(name);
  return c;
}

}  // namespace

TEST_GROUP(PeerCommands) {
  CommandRegistry clients;
  PeerCommandRegistry peers{clients};
  NoPeer link;
  std::vector<std::string> ran;
  std::optional<proto::CommandResult> last;
  Reply reply = [this](proto::CommandResult r) { last = std::move(r); };
  void setup() override {
    clients.add({"GetThing",
                 [this](const proto::Command&, Reply r) {
                   ran.push_back("client");
                   r(proto::CommandResult{});
                 },
                 true, Privilege::Login, false});
    peers.add("ConfigReplicate", [this](const proto::Command&, Reply r) {
      ran.push_back("peer");
      r(proto::CommandResult{});
    });
  }
};

TEST(PeerCommands, AClientCannotReachAPeerOnlyHandler) {
  CommandRouter router(SpId::A, clients, link, std::chrono::milliseconds{100});
  router.dispatch(named("ConfigReplicate"), reply);
  CHECK_TRUE(ran.empty());
  CHECK_EQUAL(proto::CommandResult::NOT_FOUND, last->status());
}

TEST(PeerCommands, ThePeerLinkReachesPeerOnlyHandlersAndClientCommandsThroughTheRouter) {
  CommandRouter router(SpId::A, clients, link, std::chrono::milliseconds{100});
  dispatchFromPeer(peers, router, named("ConfigReplicate"), reply);
  dispatchFromPeer(peers, router, named("GetThing"), reply);
  dispatchFromPeer(peers, router, named("Nothing"), reply);
  CHECK_EQUAL(2u, ran.size());
  STRCMP_EQUAL("peer", ran[0].c_str());
  STRCMP_EQUAL("client", ran[1].c_str());
  CHECK_EQUAL(proto::CommandResult::NOT_FOUND, last->status());
}

TEST(PeerCommands, ANameCannotBeBothAClientAndAPeerCommand) {
  CHECK_THROWS(std::logic_error,
               peers.add("GetThing", [](const proto::Command&, Reply r) { r({}); }));
  CHECK_THROWS(std::logic_error,
               peers.add("ConfigReplicate", [](const proto::Command&, Reply r) { r({}); }));
  CHECK_TRUE(clients.find("ConfigReplicate") == nullptr);
}
