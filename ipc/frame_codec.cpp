#include "ipc/frame_codec.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace dualsp::ipc {

namespace {

using Mac = std::array<unsigned char, kFrameMacSize>;

void putBigEndian(std::string& out, uint64_t v, size_t bytes) {
  for (size_t i = bytes; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t getBigEndian(const char* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// HMAC-SHA256 (libsodium) over the already concatenated nonce || sequence || envelope.
Mac computeMac(const std::string& key, const std::string& input) {
  static const bool ready = sodium_init() >= 0;  // idempotent, thread-safe
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
  Mac mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

void buildMacInput(std::string& out, const std::string& nonce, uint64_t seq,
                   std::string_view envelope) {
  out.clear();
  out.reserve(nonce.size() + kFrameSequenceSize + envelope.size());
  out.append(nonce);
  putBigEndian(out, seq, kFrameSequenceSize);
  out.append(envelope);
}

}  // namespace

const std::string& helloNonce() {
  static const std::string zeros(kNonceSize, '\0');
  return zeros;
}

std::string encodeFrame(uint64_t seq, const std::string& envelope, const std::string& key,
                        const std::string& receiver_nonce) {
  if (receiver_nonce.size() != kNonceSize)
    throw std::invalid_argument("peer frame: receiver nonce must be 16 bytes");
  const size_t length = kFrameSequenceSize + envelope.size() + kFrameMacSize;
  if (length > UINT32_MAX) throw std::length_error("peer frame: envelope too large");
  std::string input;
  buildMacInput(input, receiver_nonce, seq, envelope);
  const Mac mac = computeMac(key, input);

  std::string frame;
  frame.reserve(kFrameLengthSize + length);
  putBigEndian(frame, length, kFrameLengthSize);
  frame.append(input, kNonceSize, std::string::npos);  // sequence || envelope
  frame.append(reinterpret_cast<const char*>(mac.data()), mac.size());
  return frame;
}

std::string_view frameErrorName(FrameError e) {
  switch (e) {
    case FrameError::Oversized:
      return "oversized";
    case FrameError::Truncated:
      return "truncated";
    case FrameError::BadMac:
      return "bad MAC";
    case FrameError::BadSequence:
      return "bad sequence";
    case FrameError::Malformed:
      return "malformed";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::string key, size_t max_frame)
    : key_(std::move(key)), max_frame_(max_frame) {}

void FrameDecoder::setReceiverNonce(std::string nonce) {
  if (nonce.size() != kNonceSize)
    throw std::invalid_argument("peer frame: receiver nonce must be 16 bytes");
  receiver_nonce_ = std::move(nonce);
}

void FrameDecoder::feed(const char* data, size_t n) {
  if (failed()) return;  // a dead connection's bytes are not worth keeping
  buffer_.append(data, n);
}

DecodeResult FrameDecoder::fail(FrameError code, std::string text) {
  error_ = DecodeError{code, std::move(text)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  head_ = 0;
  return DecodeResult{std::nullopt, error_};
}

void FrameDecoder::consume(size_t n) {
  head_ += n;
  if (head_ == buffer_.size()) {
    buffer_.clear();
    head_ = 0;
  } else if (head_ >= 64 * 1024 && head_ * 2 >= buffer_.size()) {
    // Compact only when the dead prefix dominates, so many small frames cost no quadratic copy.
    buffer_.erase(0, head_);
    head_ = 0;
  }
}

DecodeResult FrameDecoder::next() {
  if (failed()) return DecodeResult{std::nullopt, error_};
  if (buffered() < kFrameLengthSize) return {};
  const char* p = buffer_.data() + head_;
  const uint64_t length = getBigEndian(p, kFrameLengthSize);
  // Both checks on the length field alone: nothing is allocated for what it announces.
  if (length > max_frame_)
    return fail(FrameError::Oversized, "frame length " + std::to_string(length) +
                                           " exceeds the limit of " + std::to_string(max_frame_));
  if (length < kMinFrameLength)
    return fail(FrameError::Malformed,
                "frame length " + std::to_string(length) + " cannot hold a sequence and a MAC");
  if (buffered() < kFrameLengthSize + length) return {};

  const char* body = p + kFrameLengthSize;
  const uint64_t seq = getBigEndian(body, kFrameSequenceSize);
  const std::string_view envelope(body + kFrameSequenceSize, length - kMinFrameLength);
  const char* mac = body + length - kFrameMacSize;

  const std::string& nonce = seq == kHelloSequence ? helloNonce() : receiver_nonce_;
  if (nonce.empty()) return fail(FrameError::BadMac, "frame after HELLO but no nonce was sent");
  buildMacInput(mac_input_, nonce, seq, envelope);
  const Mac expected = computeMac(key_, mac_input_);
  // Constant time, so the MAC cannot be guessed byte by byte from response timing.
  if (sodium_memcmp(expected.data(), mac, kFrameMacSize) != 0)
    return fail(FrameError::BadMac, "MAC mismatch on frame " + std::to_string(seq));
  if (seq != expected_seq_)
    return fail(FrameError::BadSequence,
                "sequence " + std::to_string(seq) + ", expected " + std::to_string(expected_seq_));

  Frame frame;
  frame.seq = seq;
  if (!frame.envelope.ParseFromArray(envelope.data(), static_cast<int>(envelope.size())))
    return fail(FrameError::Malformed,
                "envelope of frame " + std::to_string(seq) + " does not parse");
  ++expected_seq_;
  consume(kFrameLengthSize + length);
  return DecodeResult{std::move(frame), std::nullopt};
}

std::optional<DecodeError> FrameDecoder::finish() {
  if (!failed() && buffered() > 0)
    fail(FrameError::Truncated,
         "stream ended " + std::to_string(buffered()) + " bytes into a frame");
  return error_;
}

std::string hmacSha256(const std::string& key, std::string_view data) {
  Mac mac = computeMac(key, std::string(data));
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

bool macEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dualsp::ipc
