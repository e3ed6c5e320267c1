#pragma once
// The peer link's frame around one Envelope (docs/DESIGN.md "The command path"). Pure: bytes in,
// frames out; the sockets are in ipc/peer_link.hpp.
//
//   u32 BE length of the rest | u64 BE sequence | Envelope bytes | HMAC-SHA256 (32 bytes)
//   MAC = HMAC-SHA256(pair key, receiver nonce || u64 BE sequence || Envelope bytes)
//
// The receiver nonce is the 16 random bytes the receiving side sent in its HELLO, so a frame
// recorded on one connection is refused on any later one. The HELLO frames themselves
// (sequence 0) are MACed with 16 zero bytes: no nonce has been exchanged yet. Sequences count
// up by one from 0 on each direction of each connection, so a replayed, dropped or reordered
// frame is refused.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/peer.pb.h"

namespace dualsp::ipc {

constexpr size_t kFrameLengthSize = 4;
constexpr size_t kFrameSequenceSize = 8;
constexpr size_t kFrameMacSize = 32;  // HMAC-SHA256
constexpr size_t kNonceSize = 16;
// Smallest value of the length field: a sequence and a MAC around an empty Envelope.
constexpr size_t kMinFrameLength = kFrameSequenceSize + kFrameMacSize;
// Largest value of the length field by default; nothing on the peer link comes near it.
constexpr size_t kDefaultMaxFrame = size_t{1} << 20;
constexpr uint64_t kHelloSequence = 0;

// The receiver nonce of HELLO frames: 16 zero bytes.
const std::string& helloNonce();

// One whole frame, length prefix included. `receiver_nonce` must be kNonceSize bytes
// (std::invalid_argument otherwise: a caller bug, not bad input).
std::string encodeFrame(uint64_t seq, const std::string& envelope, const std::string& key,
                        const std::string& receiver_nonce);

enum class FrameError : uint8_t {
  Oversized,    // length field above the decoder's limit
  Truncated,    // the stream ended in the middle of a frame (finish())
  BadMac,       // wrong key, altered bytes, or a frame MACed for another connection
  BadSequence,  // not exactly the previous sequence + 1: replayed, dropped or reordered
  Malformed,    // length too small for sequence + MAC, or the Envelope does not parse
};
std::string_view frameErrorName(FrameError e);

struct DecodeError {
  FrameError code;
  std::string text;
};

struct Frame {
  uint64_t seq = 0;
  proto::Envelope envelope;
};

// What FrameDecoder::next() found: a frame, an error, or neither (more bytes needed).
struct DecodeResult {
  std::optional<Frame> frame;
  std::optional<DecodeError> error;
  bool needMore() const { return !frame && !error; }
};

// Reassembles and authenticates the frames of one direction of one connection. Bytes may be
// fed in any pieces. After the first error the decoder stays failed: the connection is dead.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::string key, size_t max_frame = kDefaultMaxFrame);

  // The nonce this side sent in its HELLO; frames after the HELLO are MACed with it.
  void setReceiverNonce(std::string nonce);
  void feed(const char* data, size_t n);
  DecodeResult next();
  // The stream has ended: Truncated when it stopped inside a frame, the earlier error if any.
  std::optional<DecodeError> finish();

  bool failed() const { return error_.has_value(); }
  const std::optional<DecodeError>& error() const { return error_; }
  size_t buffered() const { return buffer_.size() - head_; }
  uint64_t expectedSequence() const { return expected_seq_; }

 private:
  DecodeResult fail(FrameError code, std::string text);
  void consume(size_t n);

  std::string key_;
  size_t max_frame_;
  std::string receiver_nonce_;
  std::string buffer_;
  size_t head_ = 0;        // bytes of buffer_ already decoded
  std::string mac_input_;  // reused: nonce || sequence || envelope
  uint64_t expected_seq_ = kHelloSequence;
  std::optional<DecodeError> error_;
};

// HMAC-SHA256 of `data` under `key` (kFrameMacSize bytes); also signs UDP heartbeats.
std::string hmacSha256(const std::string& key, std::string_view data);
// Compares two MACs in constant time.
bool macEquals(std::string_view a, std::string_view b);

}  // namespace dualsp::ipc
