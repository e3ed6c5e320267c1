#include "tools/spctl/client/sse.hpp"

#include <charconv>

namespace dualsp::spctl {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> out;
  buffer_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t end = buffer_.find('\n', start);
    if (end == std::string::npos) break;
    std::string_view l(buffer_.data() + start, end - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l, out);
    start = end + 1;
  }
  buffer_.erase(0, start);
  return out;
}

void SseParser::line(std::string_view l, std::vector<SseEvent>& out) {
  if (l.empty()) {  // the blank line ends an event
    if (has_data_ || !current_.id.empty()) out.push_back(std::move(current_));
    current_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (l.front() == ':') {
    ++comments_;
    return;
  }
  std::string_view field = l, value;
  if (size_t colon = l.find(':'); colon != std::string_view::npos) {
    field = l.substr(0, colon);
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) current_.data += '\n';
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "id") {
    current_.id = std::string(value);
  } else if (field == "event") {
    current_.type = std::string(value);
  }  // "retry" and unknown fields: ignored (the follower has its own backoff)
}

std::optional<uint64_t> eventNumber(const std::string& id) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc() || end != id.data() + id.size() || id.empty()) return std::nullopt;
  return n;
}

bool EventDedup::admit(const SseEvent& event) {
  std::optional<uint64_t> n = eventNumber(event.id);
  if (!n) return true;  // no id: nothing to compare (the array always sends one)
  if (*n <= last_) return false;
  if (last_ != 0 && *n > last_ + 1) gaps_ += *n - last_ - 1;
  last_ = *n;
  return true;
}

}  // namespace dualsp::spctl
