#include "ipc/peer_error.hpp"

namespace dualsp::ipc {

std::string_view describe(PeerError e) {
  switch (e) {
    case PeerError::None:
      return "";
    case PeerError::Timeout:
      return "timeout";
    case PeerError::NotConnected:
      return "not connected";
    case PeerError::Disconnected:
      return "disconnected";
    case PeerError::Stopped:
      return "stopped";
    case PeerError::TooLarge:
      return "too large";
    case PeerError::Unreadable:
      return "unreadable answer";
    case PeerError::PeerDead:
      return "no heartbeats from the peer";
    case PeerError::NoLink:
      return "no peer link";
    case PeerError::NoAnswer:
      return "no answer";
  }
  return "unknown peer-link error";
}

bool neverSent(PeerError e) {
  switch (e) {
    case PeerError::NotConnected:
    case PeerError::TooLarge:
    case PeerError::Stopped:
    case PeerError::NoLink:
    case PeerError::PeerDead:  // the heartbeats declared the peer dead: not asked
      return true;
    default:
      return false;
  }
}

}  // namespace dualsp::ipc
