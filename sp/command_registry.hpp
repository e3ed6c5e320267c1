#pragma once
// Every operation is a command (docs/DESIGN.md "The command path"). The registry is data: each
// command declares its handler, whether the degraded web server may call it, the
// privilege it needs and whether it changes anything — printable and testable.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "proto/command.pb.h"

namespace dualsp::sp {

// Redfish privileges (Redfish_1.8.0_PrivilegeRegistry.json); enforced with sessions later.
enum class Privilege { Login, ConfigureManager, ConfigureComponents, ConfigureUsers };
std::string_view privilegeName(Privilege p);

using Reply = std::function<void(proto::CommandResult)>;
using Handler = std::function<void(const proto::Command&, Reply)>;

struct CommandSpec {
  std::string name;
  Handler handler;
  bool degraded = false;  // served by the degraded web server
  Privilege privilege = Privilege::Login;
  bool mutating = false;  // never answered from a stale copy, never coalesced
  // A read only the SP it is about answers, as it is now (performance figures): about the
  // peer it is never answered from a stale copy; no answer is UNAVAILABLE.
  bool fresh_only = false;
};

class CommandRegistry {
 public:
  void add(CommandSpec spec);
  const CommandSpec* find(const std::string& name) const;
  std::vector<const CommandSpec*> all() const;
  // "GetSpStatus  degraded  Login  read" lines (read, read (fresh only), change), for
  // spd --commands.
  std::string describe() const;

 private:
  std::map<std::string, CommandSpec> specs_;
};

// The commands only the peer SP sends (ConfigReplicate, ConfigSyncOffer, ConfigSyncInstall):
// a registry of their own, consulted only for requests that arrive on the peer link
// (dispatchFromPeer, sp/peer_commands.hpp). The router and the local bus never see them, so a
// client cannot reach a peer-only handler. A name may not be in both registries.
class PeerCommandRegistry {
 public:
  explicit PeerCommandRegistry(const CommandRegistry& clients) : clients_(clients) {}
  // Throws when the name is taken, here or among the client commands.
  void add(std::string name, Handler handler);
  const Handler* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  const CommandRegistry& clients_;
  std::map<std::string, Handler> handlers_;
};

// A result with just a status and a text.
proto::CommandResult errorResult(proto::CommandResult::Status status, const std::string& text);

}  // namespace dualsp::sp
