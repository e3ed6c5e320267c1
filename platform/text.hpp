#pragma once
// Text from outside (clients, the peer, the store) on its way into a log line or a message:
// cut where a character ends, control characters made visible (docs/SECURITY.md "Hostile
// input").

#include <cstddef>
#include <string>
#include <string_view>

namespace dualsp::text {

// At most `max_bytes` of `s`, never ending inside a UTF-8 sequence (a cut sequence would make
// the whole message invalid UTF-8 for every JSON writer after it).
std::string_view cutUtf8(std::string_view s, size_t max_bytes);

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF). Protobuf refuses to parse a string field that is not: spd drops a command holding
// one, so spweb must not send it.
bool validUtf8(std::string_view s);

// The same with "..." appended when something was cut; the result is at most max_bytes + 3.
std::string shortened(std::string_view s, size_t max_bytes);

// CR, LF, TAB, the other C0 controls and DEL as \r, \n, \t, \xHH, so one log line stays one
// line: nothing a client wrote can start a line of its own (a forged entry).
std::string escapeControl(std::string_view s);

}  // namespace dualsp::text
