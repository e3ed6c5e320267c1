#pragma once
// A heartbeat as it travels on the UDP paths (docs/ELECTION.md): a serialized proto::Heartbeat
// followed, under the pair key, by its HMAC-SHA256. Decoding is kept apart from the socket
// (udp_path.cpp) and from the service (heartbeat_service.cpp), so the unit tests and the fuzz
// target (tests/fuzz/heartbeat_fuzz.cpp) reach exactly what a datagram goes through.

#include <optional>
#include <string>
#include <string_view>

#include "heartbeat/election.hpp"
#include "proto/heartbeat.pb.h"

namespace dualsp::heartbeat {

enum class FrameProblem { None, BadMac, Malformed };

// The frame as sent: `frame` with its HMAC-SHA256 under `key` appended (`key` empty: as it is).
std::string signHeartbeatFrame(const std::string& frame, const std::string& key);

// The Heartbeat a datagram carries, or nullopt with the problem: a missing or wrong MAC
// (checked first, on the bytes as received), or a body that does not parse. `key` empty:
// unauthenticated (unit tests only; spd does not start without a pair key).
std::optional<proto::Heartbeat> decodeHeartbeatFrame(std::string_view datagram,
                                                     const std::string& key, FrameProblem& problem);

// What the election hears from a frame the peer sent; nullopt for a frame of another array,
// one claiming to come from this SP or from no known SP, or one with a role or health this
// firmware does not know.
std::optional<Beat> beatOfFrame(const proto::Heartbeat& frame, const std::string& array_id,
                                SpId self);

}  // namespace dualsp::heartbeat
