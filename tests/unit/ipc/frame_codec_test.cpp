// The peer link's frame: layout, reassembly from any pieces, and every way a frame is refused.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>
#include <string>

#include "ipc/frame_codec.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp;
using namespace dualsp::ipc;

namespace {

const std::string kKey = "pair-key-of-the-test-array-0001";
const std::string kNonce = "receiver-nonce-1";  // 16 bytes
const std::string kOldNonce = "receiver-nonce-0";

std::string envelopeBytes(proto::Envelope::Type type, const std::string& payload) {
  proto::Envelope e;
  e.set_version(1);
  e.set_type(type);
  e.set_sender(proto::SP_A);
  e.set_payload(payload);
  if (type == proto::Envelope::HELLO) e.set_nonce("sender-nonce-xyz");
  return e.SerializeAsString();
}

std::string hello() {
  return encodeFrame(0, envelopeBytes(proto::Envelope::HELLO, ""), kKey, helloNonce());
}

std::string request(uint64_t seq, const std::string& payload, const std::string& key = kKey,
                    const std::string& nonce = kNonce) {
  return encodeFrame(seq, envelopeBytes(proto::Envelope::REQUEST, payload), key, nonce);
}

FrameDecoder decoder(size_t max_frame = kDefaultMaxFrame) {
  FrameDecoder d(kKey, max_frame);
  d.setReceiverNonce(kNonce);
  return d;
}

void feed(FrameDecoder& d, const std::string& bytes) {
  d.feed(bytes.data(), bytes.size());
}

FrameError errorOf(FrameDecoder& d) {
  DecodeResult r = d.next();
  CHECK_TRUE(r.error.has_value());
  return r.error->code;
}

}  // namespace

TEST_GROUP(FrameCodec){};

TEST(FrameCodec, WireLayoutIsLengthSequenceEnvelopeMac) {
  const std::string env = envelopeBytes(proto::Envelope::REQUEST, "payload");
  const std::string frame = encodeFrame(0x0102030405060708ull, env, kKey, kNonce);
  const size_t length = 8 + env.size() + 32;
  CHECK_EQUAL(4 + length, frame.size());
  CHECK_EQUAL(std::string({0, 0, 0, static_cast<char>(length)}), frame.substr(0, 4));
  CHECK_EQUAL(std::string("\x01\x02\x03\x04\x05\x06\x07\x08"), frame.substr(4, 8));
  CHECK_EQUAL(env, frame.substr(12, env.size()));
  // The MAC, computed independently: receiver nonce || sequence || envelope.
  const std::string input = kNonce + frame.substr(4, 8) + env;
  unsigned char mac[32];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  CHECK_EQUAL(32u, mac_len);
  CHECK_EQUAL(std::string(reinterpret_cast<char*>(mac), 32), frame.substr(12 + env.size()));
}

TEST(FrameCodec, NonceMustBeSixteenBytes) {
  CHECK_THROWS(std::invalid_argument, encodeFrame(1, "", kKey, "short"));
  FrameDecoder d(kKey);
  CHECK_THROWS(std::invalid_argument, d.setReceiverNonce("short"));
}

TEST(FrameCodec, FrameSplitIntoOneBytePieces) {
  const std::string stream = hello() + request(1, "first") + request(2, "second");
  FrameDecoder d = decoder();
  std::vector<Frame> frames;
  for (char c : stream) {
    d.feed(&c, 1);
    for (DecodeResult r = d.next(); !r.needMore(); r = d.next()) {
      CHECK_FALSE(r.error.has_value());
      frames.push_back(std::move(*r.frame));
    }
  }
  CHECK_EQUAL(3u, frames.size());
  CHECK_EQUAL(0u, frames[0].seq);
  CHECK(frames[0].envelope.type() == proto::Envelope::HELLO);
  CHECK_EQUAL(std::string("first"), frames[1].envelope.payload());
  CHECK_EQUAL(2u, frames[2].seq);
  CHECK_EQUAL(std::string("second"), frames[2].envelope.payload());
  CHECK_FALSE(d.finish().has_value());  // ended on a frame boundary
}

TEST(FrameCodec, TwoFramesMergedInOneFeed) {
  FrameDecoder d = decoder();
  feed(d, hello() + request(1, "a"));
  DecodeResult first = d.next();
  DecodeResult second = d.next();
  CHECK_TRUE(first.frame.has_value());
  CHECK_TRUE(second.frame.has_value());
  CHECK_EQUAL(std::string("a"), second.frame->envelope.payload());
  CHECK_TRUE(d.next().needMore());
  CHECK_EQUAL(0u, d.buffered());
}

TEST(FrameCodec, TruncatedStreamIsReportedAtFinish) {
  const std::string frame = hello();
  FrameDecoder d = decoder();
  feed(d, frame.substr(0, frame.size() - 1));
  CHECK_TRUE(d.next().needMore());  // mid-frame is not an error until the stream ends
  auto error = d.finish();
  CHECK_TRUE(error.has_value());
  CHECK(error->code == FrameError::Truncated);
  CHECK_TRUE(d.failed());
}

TEST(FrameCodec, OversizedLengthIsRefusedFromTheHeaderAlone) {
  FrameDecoder d = decoder(1024);
  feed(d, std::string("\xff\xff\xff\xf0", 4));  // announces 4 GiB; only the header arrives
  CHECK(errorOf(d) == FrameError::Oversized);
  CHECK_EQUAL(0u, d.buffered());  // nothing kept, nothing waited for
  // The limit itself is allowed.
  const std::string env = envelopeBytes(proto::Envelope::HELLO, std::string(2000, 'x'));
  FrameDecoder exact = decoder(8 + env.size() + 32);
  feed(exact, encodeFrame(0, env, kKey, helloNonce()));
  CHECK_TRUE(exact.next().frame.has_value());
}

TEST(FrameCodec, LengthTooSmallForSequenceAndMacIsMalformed) {
  FrameDecoder d = decoder();
  feed(d, std::string("\x00\x00\x00\x27", 4) + std::string(39, '\0'));
  CHECK(errorOf(d) == FrameError::Malformed);
}

TEST(FrameCodec, WrongKeyIsBadMac) {
  FrameDecoder d = decoder();
  feed(d, encodeFrame(0, envelopeBytes(proto::Envelope::HELLO, ""), "another-key", helloNonce()));
  CHECK(errorOf(d) == FrameError::BadMac);
}

TEST(FrameCodec, OneFlippedByteAnywhereIsBadMac) {
  const std::string frame = request(1, "payload of a request");
  // Every byte of sequence, envelope and MAC (the length prefix would only resize the frame).
  for (size_t i = 4; i < frame.size(); ++i) {
    std::string bad = frame;
    bad[i] ^= 0x01;
    FrameDecoder d = decoder();
    feed(d, hello() + bad);
    CHECK_TRUE(d.next().frame.has_value());
    CHECK(errorOf(d) == FrameError::BadMac);
  }
}

TEST(FrameCodec, ReplayedFrameIsBadSequence) {
  FrameDecoder d = decoder();
  const std::string frame = request(1, "once");
  feed(d, hello() + frame + frame);
  CHECK_TRUE(d.next().frame.has_value());
  CHECK_TRUE(d.next().frame.has_value());
  CHECK(errorOf(d) == FrameError::BadSequence);
}

TEST(FrameCodec, ReorderedFramesAreBadSequence) {
  FrameDecoder d = decoder();
  feed(d, hello() + request(2, "second") + request(1, "first"));
  CHECK_TRUE(d.next().frame.has_value());
  CHECK(errorOf(d) == FrameError::BadSequence);
}

TEST(FrameCodec, FrameMacedForAnOldConnectionIsBadMac) {
  FrameDecoder d = decoder();  // this connection's nonce is kNonce
  feed(d, hello() + request(1, "recorded earlier", kKey, kOldNonce));
  CHECK_TRUE(d.next().frame.has_value());
  CHECK(errorOf(d) == FrameError::BadMac);
}

TEST(FrameCodec, HelloIsMacedWithTheZeroNonce) {
  FrameDecoder d = decoder();
  feed(d, encodeFrame(0, envelopeBytes(proto::Envelope::HELLO, ""), kKey, kNonce));
  CHECK(errorOf(d) == FrameError::BadMac);
}

TEST(FrameCodec, FramesAfterHelloNeedTheReceiverNonce) {
  FrameDecoder d(kKey);  // setReceiverNonce() never called
  feed(d, hello() + request(1, "x"));
  CHECK_TRUE(d.next().frame.has_value());
  CHECK(errorOf(d) == FrameError::BadMac);
}

TEST(FrameCodec, EnvelopeThatDoesNotParseIsMalformed) {
  FrameDecoder d = decoder();
  feed(d, encodeFrame(0, std::string("\xff\xff\xff", 3), kKey, helloNonce()));
  CHECK(errorOf(d) == FrameError::Malformed);
}

TEST(FrameCodec, DecoderStaysFailed) {
  FrameDecoder d = decoder();
  feed(d, request(1, "not first"));
  CHECK(errorOf(d) == FrameError::BadSequence);
  feed(d, hello());
  CHECK(errorOf(d) == FrameError::BadSequence);
  CHECK(d.finish()->code == FrameError::BadSequence);
}
