#include "sp/config_takeover.hpp"

#include "platform/log.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {

void ConfigTakeover::resolveUnknownHistory() {
  if (!core_.history_unknown) return;
  if (core_.deps.peer_history_readable && !core_.deps.peer_history_readable()) return;
  core_.history_unknown = false;
  LOG_NOTICE << "the midplane can be read again: " << core_.peerName()
             << "'s history is known, changes are taken";
  core_.clearFault("config-unknown");
  checkMissingHistory();
}

void ConfigTakeover::checkMissingHistory() {
  if (!core_.deps.peer_history || !core_.store.isOpen()) return;
  auto reach = core_.deps.peer_history();
  if (!reach) return;
  const Version mine = core_.store.last();
  const Version theirs = versionOfHistory(*reach);
  if (!(mine < theirs)) return;
  if (core_.missing && !(versionOfHistory(*core_.missing) < theirs)) return;  // known already
  const std::string peer = core_.peerName();
  const std::string self = core_.selfName();
  const uint64_t my_last_event = core_.lastStoredEventId();
  std::string text = self + " became active without the configuration versions after " +
                     toString(mine) + " up to " + toString(theirs);
  if (reach->last_event_id > my_last_event)
    text += " (events " + std::to_string(my_last_event + 1) + " to " +
            std::to_string(reach->last_event_id) + ")";
  text += ", which " + peer + " acknowledged alone while " + self + " was down; they are merged " +
          "back when " + peer + " returns.";
  LOG_CRITICAL << text;
  core_.missing = reach;
  core_.event_floor = std::max(core_.event_floor, reach->last_event_id);
  core_.saveMissing(*reach);
  if (core_.deps.fault)
    core_.deps.fault("config-missing", true, std::string(message::kErrorsDetected), text,
                     Health::Warning);
  core_.pending_events.push_back(
      makeEvent(message::kErrorsDetected, {"ConfigurationStore", "MissingChanges"},
                managerUri(core_.deps.self), "Critical", core_.deps.self, text));
}

void ConfigTakeover::noteRole(Role role) {
  if (role == Role::Active && !core_.acting_active) {
    // What this SP holds is the array's history now; what the dead peer held beyond it is
    // named, and its event ids stay free for when it returns.
    {
      std::lock_guard lock(core_.mu);
      core_.visible = core_.store.last();
    }
    if (!core_.peerAlive() && core_.deps.peer_history_readable &&
        !core_.deps.peer_history_readable()) {
      core_.history_unknown = true;
      const std::string text =
          core_.selfName() + " took over from " + core_.peerName() +
          " without reading on the midplane how far its history reached (the midplane is " +
          "cut): configuration changes are refused until it can, or " + core_.peerName() +
          " returns.";
      LOG_CRITICAL << text;
      if (core_.deps.fault)
        core_.deps.fault("config-unknown", true, std::string(message::kErrorsDetected), text,
                         Health::Warning);
    }
    checkMissingHistory();
    core_.active_since = core_.lastVisibleEventId();
    core_.publishHistory();
  }
  core_.acting_active = role == Role::Active;
}

}  // namespace dualsp::sp
