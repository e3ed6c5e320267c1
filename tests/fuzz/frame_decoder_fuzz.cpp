// libFuzzer target for the peer link's frame decoder (ipc/frame_codec.hpp): whatever bytes
// arrive from the peer-link network, in whatever pieces, the decoder must not crash, read out
// of bounds or allocate what a length field announces, and must accept exactly the frames a
// sender holding the key wrote, in order.
//
// Input: byte 0 picks the mode, bytes 1-4 seed the sizes of the pieces fed, the rest is
//   even mode: the raw byte stream (length, MAC and framing checks);
//   odd mode:  records [u8 flags][u16 BE size][size bytes of envelope], which this target encodes
//              with the right key, so mutations reach the sequence and envelope checks that sit
//              behind the MAC. flags bit 0: wrong sequence, bit 1: MAC for another connection,
//              bit 2: one byte of the encoded frame flipped.
// With DUALSP_FUZZ_WRITE_SEEDS=<dir> it writes a small seed corpus there and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ipc/frame_codec.hpp"
#include "proto/peer.pb.h"

using namespace dualsp;
using namespace dualsp::ipc;

namespace {

const std::string kKey = "fuzz-pair-key-0123456789";
const std::string kNonce = "fuzz-recv-nonce!";  // this side's HELLO nonce
const std::string kOtherNonce = "fuzz-old-nonce!!";

// A broken expectation is a finding: stop the way libFuzzer reports a crash.
#define FUZZ_EXPECT(cond)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "frame_decoder_fuzz: expectation failed: %s\n", #cond); \
      __builtin_trap();                                                       \
    }                                                                         \
  } while (0)

// Deterministic piece sizes from the input, so every finding reproduces.
class Pieces {
 public:
  explicit Pieces(uint32_t seed) : state_(seed | 1) {}
  size_t next(size_t left) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    // Mostly small pieces, sometimes large ones: both split and merged frames.
    const size_t limit = (state_ & 0x100) ? 4096 : 16;
    return std::min(left, 1 + static_cast<size_t>(state_ % limit));
  }

 private:
  uint32_t state_;
};

// What the stream should decode to, frame by frame; checking stops at the first error.
struct Expected {
  bool frame = false;  // false: some error (or, for a corrupted record, anything but a frame)
  bool exact = true;   // false: corrupted record, outcome not predicted beyond "not a frame"
  uint64_t seq = 0;
};

void checkEnvelopeRoundTrip(const char* data, size_t size) {
  proto::Envelope e;
  if (!e.ParseFromArray(data, static_cast<int>(size))) return;
  const std::string once = e.SerializeAsString();
  proto::Envelope again;
  FUZZ_EXPECT(again.ParseFromString(once));
  FUZZ_EXPECT(again.SerializeAsString() == once);
}

void feedInPieces(FrameDecoder& decoder, const std::string& stream, uint32_t seed,
                  std::vector<DecodeResult>& results) {
  Pieces pieces(seed);
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = pieces.next(stream.size() - pos);
    decoder.feed(stream.data() + pos, n);
    pos += n;
    FUZZ_EXPECT(decoder.buffered() <= pos);
    for (;;) {
      DecodeResult r = decoder.next();
      if (r.needMore()) break;
      const bool error = r.error.has_value();
      results.push_back(std::move(r));
      if (error) return;
    }
  }
}

void fuzzRaw(const std::string& stream, uint32_t seed) {
  FrameDecoder decoder(kKey);
  decoder.setReceiverNonce(kNonce);
  std::vector<DecodeResult> results;
  feedInPieces(decoder, stream, seed, results);
  uint64_t seq = 0;
  for (const auto& r : results) {
    if (r.frame) FUZZ_EXPECT(r.frame->seq == seq++);  // only in order, from 0
  }
  if (!results.empty() && results.back().error) {
    const FrameError code = results.back().error->code;
    FUZZ_EXPECT(decoder.failed());
    FUZZ_EXPECT(decoder.next().error->code == code);  // stays failed
    FUZZ_EXPECT(decoder.buffered() == 0);
  }
  auto end = decoder.finish();
  FUZZ_EXPECT(end.has_value() == (decoder.failed()));
  checkEnvelopeRoundTrip(stream.data(), stream.size());
}

void fuzzStructured(const uint8_t* data, size_t size, uint32_t seed) {
  std::string stream;
  std::vector<Expected> expected;
  uint64_t seq = 0;
  bool broken = false;  // after the first bad record nothing more is predicted
  size_t pos = 0;
  while (pos + 3 <= size) {
    const uint8_t flags = data[pos];
    const size_t len =
        std::min<size_t>((size_t{data[pos + 1]} << 8) | data[pos + 2], size - pos - 3);
    const std::string envelope(reinterpret_cast<const char*>(data) + pos + 3, len);
    pos += 3 + len;
    checkEnvelopeRoundTrip(envelope.data(), envelope.size());

    const uint64_t frame_seq = (flags & 1) ? seq + 1 + (flags >> 4) : seq;
    const std::string& nonce = frame_seq == kHelloSequence ? helloNonce() : kNonce;
    std::string frame = encodeFrame(frame_seq, envelope, kKey, (flags & 2) ? kOtherNonce : nonce);
    if (flags & 4) frame[(flags * 7u + len) % frame.size()] ^= 0x20;
    stream += frame;
    if (broken) continue;
    // A sequence other than 0 with the receiver nonce, and 0 with the HELLO nonce: flag 2 on a
    // HELLO-sequence frame still changes its MAC, so the frame is bad either way.
    const bool clean = !(flags & 7);
    if (!clean) {
      expected.push_back({false, (flags & 4) == 0, frame_seq});
      broken = true;
      continue;
    }
    proto::Envelope parsed;
    const bool parses = parsed.ParseFromString(envelope);
    expected.push_back({parses, true, frame_seq});
    if (!parses) broken = true;
    ++seq;
  }

  FrameDecoder decoder(kKey);
  decoder.setReceiverNonce(kNonce);
  std::vector<DecodeResult> results;
  feedInPieces(decoder, stream, seed, results);
  for (size_t i = 0; i < expected.size(); ++i) {
    const Expected& e = expected[i];
    if (!e.exact) {  // a flipped byte: may even look like a longer frame still arriving
      if (i < results.size()) FUZZ_EXPECT(!results[i].frame);
      return;
    }
    FUZZ_EXPECT(i < results.size());
    if (e.frame) {
      FUZZ_EXPECT(results[i].frame && results[i].frame->seq == e.seq);
    } else {
      FUZZ_EXPECT(results[i].error.has_value());
      return;
    }
  }
  if (!broken) FUZZ_EXPECT(!decoder.finish().has_value());  // every byte was a whole frame
}

// --- the seed corpus ---

std::string envelopeBytes(proto::Envelope::Type type, uint64_t id, const std::string& payload) {
  proto::Envelope e;
  e.set_version(1);
  e.set_type(type);
  e.set_message_id(id);
  e.set_correlation_id(type == proto::Envelope::RESPONSE ? id - 1 : 0);
  e.set_sender(proto::SP_A);
  e.set_epoch(7);
  e.set_deadline_ms(500);
  e.set_payload(payload);
  if (type == proto::Envelope::HELLO) e.set_nonce(kNonce);
  return e.SerializeAsString();
}

void writeSeed(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

void writeSeeds(const std::string& dir) {
  const std::string hello = envelopeBytes(proto::Envelope::HELLO, 1, "");
  const std::string request = envelopeBytes(proto::Envelope::REQUEST, 2, "\x0a\x0bGetSpStatus");
  const std::string response =
      envelopeBytes(proto::Envelope::RESPONSE, 3, std::string("\x08\x00", 2));
  const std::string chunks("\x00\x00\x01\x01", 4);  // the piece-size seed

  std::string raw = encodeFrame(0, hello, kKey, helloNonce()) +
                    encodeFrame(1, request, kKey, kNonce) + encodeFrame(2, response, kKey, kNonce);
  writeSeed(dir, "raw-three-frames", std::string(1, '\0') + chunks + raw);
  writeSeed(dir, "raw-truncated", std::string(1, '\0') + chunks + raw.substr(0, raw.size() - 5));
  writeSeed(dir, "raw-oversized",
            std::string(1, '\0') + chunks + std::string("\x7f\xff\xff\xff", 4));

  auto record = [](uint8_t flags, const std::string& envelope) {
    std::string r(1, static_cast<char>(flags));
    r.push_back(static_cast<char>(envelope.size() >> 8));
    r.push_back(static_cast<char>(envelope.size() & 0xff));
    return r + envelope;
  };
  writeSeed(
      dir, "records-clean",
      std::string(1, '\1') + chunks + record(0, hello) + record(0, request) + record(0, response));
  writeSeed(dir, "records-replay",
            std::string(1, '\1') + chunks + record(0, hello) + record(1, request));
  writeSeed(dir, "records-old-nonce",
            std::string(1, '\1') + chunks + record(0, hello) + record(2, request));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("DUALSP_FUZZ_WRITE_SEEDS")) {
    writeSeeds(dir);
    exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const uint32_t seed =
      (uint32_t{data[1]} << 24) | (uint32_t{data[2]} << 16) | (uint32_t{data[3]} << 8) | data[4];
  if (data[0] & 1)
    fuzzStructured(data + 5, size - 5, seed);
  else
    fuzzRaw(std::string(reinterpret_cast<const char*>(data) + 5, size - 5), seed);
  return 0;
}
