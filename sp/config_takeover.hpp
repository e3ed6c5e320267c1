#pragma once
// What an SP does when it starts acting as the active one (docs/CONFIG-STORE.md "A survivor
// that lacks its peer's history"): everything it holds becomes visible; if the dead peer's
// history reached further, it names what it lacks (fault, event, missing.point) and keeps the
// peer's event ids free; if it cannot read the peer's history at all, it takes no change
// until it can (config-unknown).

#include "sp/config_core.hpp"

namespace dualsp::sp {

class ConfigTakeover {
 public:
  explicit ConfigTakeover(ConfigCore& core) : core_(core) {}
  // On the worker, whenever the role is known (tick, a change, an event to record).
  void noteRole(Role role);
  // The peer's history area reads again after a takeover without it: changes are taken.
  void resolveUnknownHistory();
  // Compares this store with how far the peer's history reaches; names what is missing.
  void checkMissingHistory();

 private:
  ConfigCore& core_;
};

}  // namespace dualsp::sp
