// The peer link's typed errors: the texts logs show, and which ones certainly never left.
#include "ipc/peer_error.hpp"

#include <CppUTest/TestHarness.h>

#include <set>
#include <string>

using namespace dualsp::ipc;

namespace {
constexpr PeerError kAll[] = {PeerError::None,         PeerError::Timeout,  PeerError::NotConnected,
                              PeerError::Disconnected, PeerError::Stopped,  PeerError::TooLarge,
                              PeerError::Unreadable,   PeerError::PeerDead, PeerError::NoLink,
                              PeerError::NoAnswer};
}

TEST_GROUP(PeerError){};

TEST(PeerError, DescribesEachErrorWithTheTextTheLogsShowed) {
  CHECK_EQUAL(std::string("timeout"), toString(PeerError::Timeout));
  CHECK_EQUAL(std::string("not connected"), toString(PeerError::NotConnected));
  CHECK_EQUAL(std::string("disconnected"), toString(PeerError::Disconnected));
  CHECK_EQUAL(std::string("stopped"), toString(PeerError::Stopped));
  CHECK_EQUAL(std::string("too large"), toString(PeerError::TooLarge));
  CHECK_EQUAL(std::string("no heartbeats from the peer"), toString(PeerError::PeerDead));
  CHECK_EQUAL(std::string(""), toString(PeerError::None));
}

TEST(PeerError, EveryErrorHasItsOwnText) {
  std::set<std::string> texts;
  for (PeerError e : kAll) texts.insert(toString(e));
  CHECK_EQUAL(std::size(kAll), texts.size());
}

TEST(PeerError, OnlyErrorsRaisedBeforeSendingCountAsNeverSent) {
  std::set<PeerError> never;
  for (PeerError e : kAll)
    if (neverSent(e)) never.insert(e);
  // A timeout or a dropped connection may have delivered the request: not safe to resend.
  CHECK((never == std::set<PeerError>{PeerError::NotConnected, PeerError::TooLarge,
                                      PeerError::Stopped, PeerError::NoLink, PeerError::PeerDead}));
}
