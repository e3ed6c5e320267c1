#include "tools/spctl/client/sse.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp::spctl;

TEST_GROUP(Sse){};

TEST(Sse, EventsSplitAnywhereAreWholeOnce) {
  const std::string stream =
      ": keep-alive\n\nid: 7\ndata: {\"a\":1}\n\nid: 8\r\ndata: line one\r\ndata: line two\r\n\r\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    auto first = p.feed(stream.substr(0, cut));
    auto second = p.feed(stream.substr(cut));
    first.insert(first.end(), second.begin(), second.end());
    LONGS_EQUAL(2, first.size());
    STRCMP_EQUAL("7", first[0].id.c_str());
    STRCMP_EQUAL("{\"a\":1}", first[0].data.c_str());
    STRCMP_EQUAL("8", first[1].id.c_str());
    STRCMP_EQUAL("line one\nline two", first[1].data.c_str());
    LONGS_EQUAL(1, p.comments());
  }
}

TEST(Sse, AnUnfinishedEventWaitsForItsBlankLine) {
  SseParser p;
  CHECK_TRUE(p.feed("id: 1\ndata: x\n").empty());
  LONGS_EQUAL(1, p.feed("\n").size());
}

TEST(Sse, AResumedStreamShowsNothingTwice) {
  EventDedup d(5);
  CHECK_FALSE(d.admit(SseEvent{"4", "", "old"}));
  CHECK_FALSE(d.admit(SseEvent{"5", "", "the last shown"}));
  CHECK_TRUE(d.admit(SseEvent{"6", "", "new"}));
  CHECK_FALSE(d.admit(SseEvent{"6", "", "sent again after a reconnect"}));
  CHECK_TRUE(d.admit(SseEvent{"7", "", "next"}));
  LONGS_EQUAL(7, d.last());
  LONGS_EQUAL(0, d.gaps());
  CHECK_TRUE(d.admit(SseEvent{"10", "", "after a hole"}));
  LONGS_EQUAL(2, d.gaps());
}

TEST(Sse, EventIdsAreDecimal) {
  LONGS_EQUAL(42, *eventNumber("42"));
  CHECK_FALSE(eventNumber(""));
  CHECK_FALSE(eventNumber("4x"));
  CHECK_FALSE(eventNumber("-1"));
}
