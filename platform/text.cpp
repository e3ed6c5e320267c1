#include "platform/text.hpp"

namespace dualsp::text {
namespace {

bool isContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// A UTF-8 sequence is at most four bytes: a cut moves back at most three.
constexpr size_t kMaxContinuationBytes = 3;

}  // namespace

std::string_view cutUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  for (size_t back = 0; end > 0 && back < kMaxContinuationBytes && isContinuation(s[end]); ++back)
    --end;
  // Not a sequence's continuation within reach: the input was not UTF-8 there anyway.
  if (isContinuation(s[end])) end = max_bytes;
  return s.substr(0, end);
}

std::string shortened(std::string_view s, size_t max_bytes) {
  std::string_view cut = cutUtf8(s, max_bytes);
  std::string out(cut);
  if (cut.size() < s.size()) out += "...";
  return out;
}

std::string escapeControl(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace dualsp::text
