// libFuzzer target for the configuration store's recovery (sp/config_store, docs/CONFIG-STORE.md):
// whatever snapshot.pb, snapshot.prev.pb and journal.log a crash, a bad disk or a hand edit
// left behind, open() must not crash, read out of bounds or allocate what a length field
// announces. When it accepts the files:
//   - every live record has a key and a version no newer than the store's last version;
//   - recovery is a fixed point: opening the same directory again gives the same records and
//     last version (the first recovery already cut what it refused);
//   - a change written after recovery is there after the next recovery (nothing
//     acknowledged is lost).
//
// Input: byte 0 flags (bit 0: write snapshot.pb, bit 1: write snapshot.prev.pb, bit 2: the
// journal is given as records that this target frames with valid checksums, so mutations
// reach the version checks behind them; bit 3: the snapshots are given as payloads that this
// target frames with valid checksums, for the same reason), then [u16 LE length][bytes] for
// snapshot.pb, the same for snapshot.prev.pb, then the journal:
//   raw mode:    the bytes of journal.log as they are;
//   record mode: records [u8 flags][u8 epoch][u8 seq][u8 key length][key][u8 value length]
//                [value]; flags bit 0: a deletion, bit 1: one byte of the framed record
//                flipped, bit 2: the framed record cut short.
// With DUALSP_FUZZ_WRITE_SEEDS=<dir> it writes a small seed corpus there and exits.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platform/log.hpp"
#include "sp/config_store/config_store.hpp"
#include "sp/config_store/journal.hpp"

using namespace dualsp;
using namespace dualsp::sp;

namespace {

#define FUZZ_EXPECT(cond)                                                    \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "config_store_fuzz: expectation failed: %s\n", #cond); \
      __builtin_trap();                                                      \
    }                                                                        \
  } while (0)

// One directory per process on tmpfs: fsync is cheap there and nothing is left on a disk.
const std::string& storeDir() {
  static const std::string dir = "/dev/shm/dualsp-fuzz-store-" + std::to_string(getpid());
  return dir;
}

void clearDir() {
  for (const char* name : {"snapshot.pb", "snapshot.prev.pb", "snapshot.tmp", "journal.log"})
    unlink((storeDir() + "/" + name).c_str());
}

void writeFile(const std::string& name, std::string_view bytes) {
  std::ofstream out(storeDir() + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Reader {
  const uint8_t* p;
  size_t left;
  bool take(size_t n, std::string_view& out) {
    if (n > left) n = left;
    out = std::string_view(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return n > 0;
  }
  uint8_t u8() {
    if (left == 0) return 0;
    --left;
    return *p++;
  }
  uint16_t u16() {
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
};

std::string recordJournal(Reader& in) {
  std::string journal;
  while (in.left > 0) {
    uint8_t flags = in.u8();
    ConfigRecord r;
    r.mutable_version()->set_epoch(in.u8());
    r.mutable_version()->set_seq(in.u8());
    std::string_view key, value;
    in.take(in.u8(), key);
    in.take(in.u8(), value);
    r.set_key(std::string(key));
    r.set_value(std::string(value));
    r.set_deleted(flags & 1);
    std::string frame = encodeFrame(r.SerializeAsString());
    if ((flags & 2) && !frame.empty()) frame[(flags >> 3) % frame.size()] ^= 0x5a;
    if (flags & 4) frame.resize(frame.size() / 2);
    journal += frame;
  }
  return journal;
}

using Contents = std::map<std::string, std::string>;  // key -> value@version

Contents contentsOf(const ConfigStore& store) {
  Contents c;
  for (const auto& r : store.list("")) c[r.key()] = r.value() + "@" + toString(versionOf(r));
  return c;
}

void writeSeeds(const std::string& dir) {
  auto record = [](const std::string& key, const std::string& value, uint64_t e, uint64_t s) {
    ConfigRecord r;
    r.set_key(key);
    r.set_value(value);
    r.mutable_version()->set_epoch(e);
    r.mutable_version()->set_seq(s);
    return r;
  };
  proto::ConfigSnapshot snap;
  *snap.add_records() = record("chassis/AssetTag", "\"rack 4\"", 1, 1);
  *snap.add_records() = record("subscriptions/1", "{\"Destination\":\"http://h/\"}", 1, 2);
  snap.mutable_last()->set_epoch(1);
  snap.mutable_last()->set_seq(2);
  const std::string snap_payload = snap.SerializeAsString();
  const std::string snap_bytes = encodeFrame(snap_payload);
  auto lengthPrefixed = [](const std::string& bytes) {
    std::string out;
    out += static_cast<char>(bytes.size() & 0xff);
    out += static_cast<char>((bytes.size() >> 8) & 0xff);
    return out + bytes;
  };
  const std::string journal =
      encodeFrame(record("chassis/AssetTag", "\"rack 5\"", 1, 3).SerializeAsString()) +
      encodeFrame(record("managers/SPA", "{}", 2, 1).SerializeAsString());
  std::string rec_mode;
  for (auto [e, s] : {std::pair{1, 3}, std::pair{2, 1}, std::pair{2, 1}}) {
    rec_mode += '\0';
    rec_mode += static_cast<char>(e);
    rec_mode += static_cast<char>(s);
    rec_mode +=
        "\x05"
        "key/1"
        "\x02"
        "v1";
  }
  const std::vector<std::string> seeds = {
      std::string("\x01", 1) + lengthPrefixed(snap_bytes) + lengthPrefixed("") + journal,
      std::string("\x03", 1) + lengthPrefixed(snap_bytes.substr(0, 10)) +
          lengthPrefixed(snap_bytes) + journal,
      std::string("\x00", 1) + lengthPrefixed("") + lengthPrefixed("") +
          journal.substr(0, journal.size() - 3),
      std::string("\x05", 1) + lengthPrefixed(snap_bytes) + lengthPrefixed("") + rec_mode,
      std::string("\x0b", 1) + lengthPrefixed(snap_payload) + lengthPrefixed(snap_payload) +
          journal,
  };
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(dir + "/seed-" + std::to_string(i), std::ios::binary);
    out.write(seeds[i].data(), static_cast<std::streamsize>(seeds[i].size()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = getenv("DUALSP_FUZZ_WRITE_SEEDS")) {
    writeSeeds(dir);
    exit(0);
  }
  mkdir(storeDir().c_str(), 0700);
  atexit([] {
    clearDir();
    rmdir(storeDir().c_str());
  });
  log::init("config_store_fuzz", "SP-A", "",
            log::Level::Critical);  // recovery reports are expected
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  clearDir();
  Reader in{data, size};
  const uint8_t flags = in.u8();
  std::string_view snapshot, previous;
  in.take(in.u16(), snapshot);
  in.take(in.u16(), previous);
  auto snapshotFile = [&](std::string_view bytes) {
    return (flags & 8) ? encodeFrame(bytes) : std::string(bytes);
  };
  if (flags & 1) writeFile("snapshot.pb", snapshotFile(snapshot));
  if (flags & 2) writeFile("snapshot.prev.pb", snapshotFile(previous));
  std::string journal;
  if (flags & 4) {
    journal = recordJournal(in);
  } else {
    std::string_view raw;
    in.take(in.left, raw);
    journal = std::string(raw);
  }
  writeFile("journal.log", journal);

  Contents first;
  Version last;
  {
    ConfigStore store(storeDir());
    auto status = store.open();
    if (!status.ok) {
      FUZZ_EXPECT(!status.error.empty());
      return 0;
    }
    last = store.last();
    for (const auto& r : store.list("")) {
      FUZZ_EXPECT(!r.key().empty());
      FUZZ_EXPECT(versionOf(r) <= last);
    }
    first = contentsOf(store);
  }
  if (last.epoch == UINT64_MAX) return 0;
  const Version next{last.epoch + 1, 1};
  {
    ConfigStore again(storeDir());
    FUZZ_EXPECT(again.open().ok);
    FUZZ_EXPECT(again.last() == last);
    FUZZ_EXPECT(contentsOf(again) == first);
    FUZZ_EXPECT(again.put("fuzz/acknowledged", "kept", next).ok);
  }
  {
    ConfigStore after(storeDir());
    FUZZ_EXPECT(after.open().ok);
    auto kept = after.get("fuzz/acknowledged");
    FUZZ_EXPECT(kept.has_value() && kept->value() == "kept");
    FUZZ_EXPECT(after.last() == next);
  }
  return 0;
}
