#include "platform/text.hpp"

#include <cstdint>

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

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t more = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      more = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      more = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      more = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= more) return false;
    for (size_t k = 1; k <= more; ++k) {
      if (!isContinuation(s[i + k])) return false;
      cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
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
