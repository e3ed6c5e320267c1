#pragma once
// Server-Sent Events as spctl reads them (docs/SPCTL.md "events follow"): bytes in, events
// out, no I/O. The follower keeps the last id it showed and drops any event at or below it,
// so an event the array sends again after a reconnect (Last-Event-ID) is never shown twice.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dualsp::spctl {

struct SseEvent {
  std::string id;    // the `id:` field ("" if none)
  std::string type;  // `event:` ("" = message)
  std::string data;  // the `data:` lines joined by '\n'
};

class SseParser {
 public:
  // Feeds bytes as they arrive (any split); returns the events completed by them.
  std::vector<SseEvent> feed(std::string_view bytes);
  // Comment lines (": keep-alive") seen so far: a live connection's sign on a quiet array.
  uint64_t comments() const { return comments_; }

 private:
  void line(std::string_view l, std::vector<SseEvent>& out);
  std::string buffer_;
  SseEvent current_;
  bool has_data_ = false;
  uint64_t comments_ = 0;
};

// Event ids are decimal and consecutive (docs/EVENTS.md). Tracks the last one shown.
class EventDedup {
 public:
  explicit EventDedup(uint64_t last_shown = 0) : last_(last_shown) {}
  // True when the event is new (and records it): an id above the last shown.
  bool admit(const SseEvent& event);
  uint64_t last() const { return last_; }
  // Ids skipped between shown events (0 when consecutive).
  uint64_t gaps() const { return gaps_; }

 private:
  uint64_t last_;
  uint64_t gaps_ = 0;
};

std::optional<uint64_t> eventNumber(const std::string& id);

}  // namespace dualsp::spctl
