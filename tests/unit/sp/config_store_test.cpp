// The configuration store: journal replay, snapshots, recovery from torn and corrupt files,
// and refusal of writes the disk cannot take, each in its own temporary directory.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "config_test_support.hpp"
#include "sp/config_store/config_store.hpp"
#include "sp/config_store/crc32c.hpp"
#include "sp/config_store/journal.hpp"

#include <CppUTest/TestHarness.h>

using dualsp::sp::ConfigStore;
using dualsp::sp::SnapshotUsed;
using dualsp::sp::Version;

namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeAll(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

off_t fileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// Where each journal record starts, read with the store's own framing.
std::vector<size_t> recordOffsets(const std::string& path) {
  std::string data = readAll(path);
  std::vector<size_t> offsets;
  size_t offset = 0;
  std::string_view payload;
  for (;;) {
    size_t start = offset;
    if (dualsp::sp::decodeFrame(data, offset, payload) != dualsp::sp::FrameResult::Ok) break;
    offsets.push_back(start);
  }
  return offsets;
}

void flipByte(const std::string& path, size_t at) {
  std::string data = readAll(path);
  data.at(at) = static_cast<char>(data.at(at) ^ 0x40);
  writeAll(path, data);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_GROUP(ConfigStore) {
  std::string tmp;
  std::string dir;
  std::string journal;
  void setup() override {
    char tmpl[] = "/tmp/dualsp-config-XXXXXX";
    tmp = mkdtemp(tmpl);
    dir = tmp + "/config";
    journal = dir + "/journal.log";
  }
  void teardown() override {
    chmod(tmp.c_str(), 0700);
    std::string cmd = "rm -rf '" + tmp + "'";
    CHECK_EQUAL(0, system(cmd.c_str()));
  }
  // A store with keys k1..kn at versions 1.1..1.n.
  void fill(ConfigStore & store, int n) {
    for (int i = 1; i <= n; ++i) {
      auto s = store.put("k" + std::to_string(i), "v" + std::to_string(i),
                         {1, static_cast<uint64_t>(i)});
      CHECK_TRUE_TEXT(s.ok, s.error.c_str());
    }
  }
};

TEST(ConfigStore, Crc32cMatchesTheCastagnoliCheckValue) {
  CHECK_EQUAL(0xE3069283u, dualsp::sp::crc32c("123456789"));
}

TEST(ConfigStore, FreshStoreIsEmptyAndClean) {
  ConfigStore store(dir);
  CHECK_TRUE(store.open().ok);
  auto report = store.recoveryReport();
  CHECK_TRUE(report.clean());
  CHECK(report.snapshot == SnapshotUsed::None);
  CHECK_TRUE(store.last() == Version{});
  CHECK_TRUE(store.list("").empty());
}

TEST(ConfigStore, PutGetListRemove) {
  ConfigStore store(dir);
  CHECK_TRUE(store.open().ok);
  CHECK_TRUE(store.put("chassis/AssetTag", "rack-7", {1, 1}).ok);
  CHECK_TRUE(store.put("subscriptions/1", "{\"Destination\":\"a\"}", {1, 2}).ok);
  CHECK_TRUE(store.put("subscriptions/2", "{\"Destination\":\"b\"}", {1, 3}).ok);
  CHECK_TRUE(store.put("chassis/AssetTag", "rack-8", {1, 4}).ok);
  auto tag = store.get("chassis/AssetTag");
  CHECK_TRUE(tag.has_value());
  STRCMP_EQUAL("rack-8", tag->value().c_str());
  CHECK_EQUAL(4u, tag->version().seq());
  CHECK_EQUAL(2u, store.list("subscriptions/").size());
  CHECK_TRUE(store.remove("subscriptions/1", {1, 5}).ok);
  CHECK_FALSE(store.get("subscriptions/1").has_value());
  auto subs = store.list("subscriptions/");
  CHECK_EQUAL(1u, subs.size());
  STRCMP_EQUAL("subscriptions/2", subs[0].key().c_str());
  CHECK_EQUAL(2u, store.list("").size());
  CHECK_TRUE(store.last() == (Version{1, 5}));
  auto removed_again = store.remove("subscriptions/1", {1, 6});
  CHECK_FALSE(removed_again.ok);
  CHECK(contains(removed_again.error, "no configuration record"));
}

TEST(ConfigStore, SinceListsNewerRecordsAndRemovalsOldestFirst) {
  ConfigStore store(dir);
  CHECK_TRUE(store.open().ok);
  fill(store, 3);
  CHECK_TRUE(store.remove("k1", {2, 1}).ok);
  auto newer = store.since({1, 1});
  CHECK_EQUAL(3u, newer.size());
  STRCMP_EQUAL("k2", newer[0].key().c_str());
  STRCMP_EQUAL("k3", newer[1].key().c_str());
  STRCMP_EQUAL("k1", newer[2].key().c_str());
  CHECK_TRUE(newer[2].deleted());
  CHECK_TRUE(store.since({2, 1}).empty());
}

TEST(ConfigStore, VersionsThatDoNotIncreaseAreRefused) {
  ConfigStore store(dir);
  CHECK_TRUE(store.open().ok);
  CHECK_TRUE(store.put("a", "1", {2, 5}).ok);
  auto same = store.put("b", "x", {2, 5});
  CHECK_FALSE(same.ok);
  CHECK(contains(same.error, "not newer"));
  CHECK_FALSE(store.put("b", "x", {2, 4}).ok);
  CHECK_FALSE(store.put("b", "x", {1, 99}).ok);  // an older epoch loses whatever its seq
  CHECK_FALSE(store.remove("a", {2, 5}).ok);
  CHECK_FALSE(store.get("b").has_value());
  CHECK_TRUE(store.get("a").has_value());
  CHECK_TRUE(store.put("b", "x", {3, 0}).ok);  // a new epoch restarts seq
  CHECK_EQUAL(2u, recordOffsets(journal).size());
}

TEST(ConfigStore, WritesBeforeOpenAreRefused) {
  ConfigStore store(dir);
  auto s = store.put("a", "1", {1, 1});
  CHECK_FALSE(s.ok);
  CHECK(contains(s.error, "not open"));
}

TEST(ConfigStore, ReopenReplaysTheJournal) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 5);
    CHECK_TRUE(store.remove("k2", {1, 6}).ok);
  }
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_TRUE_TEXT(report.clean(), report.describe().c_str());
  CHECK_EQUAL(6u, report.records_replayed);
  CHECK_EQUAL(4u, again.list("k").size());
  CHECK_FALSE(again.get("k2").has_value());
  STRCMP_EQUAL("v5", again.get("k5")->value().c_str());
  CHECK_TRUE(again.last() == (Version{1, 6}));
}

TEST(ConfigStore, SnapshotThenMorePutsThenReopen) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 3);
    CHECK_TRUE(store.snapshot().ok);
    CHECK_EQUAL(0, fileSize(journal));
    CHECK_TRUE(store.put("k4", "v4", {1, 4}).ok);
    CHECK_TRUE(store.put("k1", "v1b", {1, 5}).ok);
  }
  CHECK_FALSE(access((dir + "/snapshot.tmp").c_str(), F_OK) == 0);
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_TRUE_TEXT(report.clean(), report.describe().c_str());
  CHECK(report.snapshot == SnapshotUsed::Current);
  CHECK_EQUAL(3u, report.snapshot_records);
  CHECK_EQUAL(2u, report.records_replayed);
  CHECK_EQUAL(4u, again.list("").size());
  STRCMP_EQUAL("v1b", again.get("k1")->value().c_str());
  CHECK_TRUE(again.last() == (Version{1, 5}));
}

TEST(ConfigStore, AutoSnapshotEveryNJournalRecords) {
  {
    ConfigStore store(dir, 3);
    CHECK_TRUE(store.open().ok);
    fill(store, 7);  // snapshots after 3 and 6
    CHECK_EQUAL(1u, recordOffsets(journal).size());
    CHECK_TRUE(access((dir + "/snapshot.prev.pb").c_str(), F_OK) == 0);
  }
  ConfigStore again(dir, 3);
  CHECK_TRUE(again.open().ok);
  CHECK_EQUAL(6u, again.recoveryReport().snapshot_records);
  CHECK_EQUAL(7u, again.list("").size());
}

TEST(ConfigStore, JournalRecordsTheSnapshotHoldsAreSkipped) {
  // A crash after the snapshot's rename, before the journal was emptied.
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 3);
  }
  std::string saved = readAll(journal);
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    CHECK_TRUE(store.snapshot().ok);
  }
  writeAll(journal, saved);
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_TRUE(report.clean());
  CHECK_EQUAL(3u, report.records_skipped);
  CHECK_EQUAL(0u, report.records_replayed);
  CHECK_EQUAL(3u, again.list("").size());
}

TEST(ConfigStore, TornTailIsCutAtTheLastGoodRecord) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 3);
  }
  auto offsets = recordOffsets(journal);
  off_t size = fileSize(journal);
  CHECK_EQUAL(0, truncate(journal.c_str(), size - 3));
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_FALSE(report.clean());
  CHECK_EQUAL(static_cast<uint64_t>(size - 3 - offsets[2]), report.bytes_cut);
  CHECK_EQUAL(2u, report.records_replayed);
  CHECK_FALSE(report.needs_peer_copy);  // never fsynced, so never acknowledged
  CHECK(contains(report.problems[0], "torn"));
  CHECK_EQUAL(static_cast<off_t>(offsets[2]), fileSize(journal));
  CHECK_TRUE(again.get("k2").has_value());
  CHECK_FALSE(again.get("k3").has_value());
  // The cut journal takes new records and replays clean.
  CHECK_TRUE(again.put("k3", "again", {1, 3}).ok);
  ConfigStore third(dir);
  CHECK_TRUE(third.open().ok);
  CHECK_TRUE(third.recoveryReport().clean());
  STRCMP_EQUAL("again", third.get("k3")->value().c_str());
}

TEST(ConfigStore, TornHeaderIsCut) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 2);
  }
  off_t size = fileSize(journal);
  writeAll(journal, readAll(journal) + std::string("\x05\x00\x00", 3));
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  CHECK_EQUAL(3u, again.recoveryReport().bytes_cut);
  CHECK_EQUAL(size, fileSize(journal));
  CHECK_EQUAL(2u, again.list("").size());
}

TEST(ConfigStore, ZeroFilledTailIsCut) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 2);
  }
  writeAll(journal, readAll(journal) + std::string(16, '\0'));
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_EQUAL(16u, report.bytes_cut);
  CHECK(contains(report.problems[0], "length"));
  CHECK_EQUAL(2u, again.list("").size());
}

TEST(ConfigStore, FlippedByteInTheLastRecordIsCutAndReported) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 3);
  }
  auto offsets = recordOffsets(journal);
  off_t size = fileSize(journal);
  flipByte(journal, offsets[2] + dualsp::sp::kFrameHeaderLength + 2);
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK_EQUAL(static_cast<uint64_t>(size - offsets[2]), report.bytes_cut);
  CHECK(contains(report.problems[0], "checksum"));
  CHECK_TRUE(report.needs_peer_copy);  // a complete, fsynced record was lost
  CHECK_EQUAL(2u, again.list("").size());
  CHECK_FALSE(again.get("k3").has_value());
}

TEST(ConfigStore, FlippedByteInAnEarlierRecordCutsEverythingAfterIt) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 4);
  }
  auto offsets = recordOffsets(journal);
  off_t size = fileSize(journal);
  flipByte(journal, offsets[1] + dualsp::sp::kFrameHeaderLength + 1);
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  // Replaying k3 and k4 over the hole would build a state that never existed.
  CHECK_EQUAL(static_cast<uint64_t>(size - offsets[1]), report.bytes_cut);
  CHECK_TRUE(report.needs_peer_copy);
  CHECK(contains(report.problems[0], "kept 1 records"));
  CHECK_EQUAL(1u, again.list("").size());
  CHECK_TRUE(again.get("k1").has_value());
  CHECK_EQUAL(static_cast<off_t>(offsets[1]), fileSize(journal));
}

TEST(ConfigStore, CorruptCurrentSnapshotFallsBackToThePreviousOne) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    CHECK_TRUE(store.put("a", "1", {1, 1}).ok);
    CHECK_TRUE(store.snapshot().ok);
    CHECK_TRUE(store.put("b", "2", {1, 2}).ok);
    CHECK_TRUE(store.snapshot().ok);
    CHECK_TRUE(store.put("c", "3", {1, 3}).ok);
  }
  flipByte(dir + "/snapshot.pb", 12);
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK(report.snapshot == SnapshotUsed::Previous);
  CHECK_TRUE(report.needs_peer_copy);
  CHECK(contains(report.problems[0], "snapshot.pb is corrupt"));
  CHECK_TRUE(again.get("a").has_value());
  CHECK_TRUE(again.get("c").has_value());
  CHECK_FALSE(again.get("b").has_value());  // only in the lost snapshot: the peer has it
}

TEST(ConfigStore, MissingCurrentSnapshotAfterAnInterruptedSnapshotLosesNothing) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    CHECK_TRUE(store.put("a", "1", {1, 1}).ok);
    CHECK_TRUE(store.snapshot().ok);
    CHECK_TRUE(store.put("b", "2", {1, 2}).ok);
  }
  // Crash between "rename current -> prev" and "rename tmp -> current".
  CHECK_EQUAL(0, rename((dir + "/snapshot.pb").c_str(), (dir + "/snapshot.prev.pb").c_str()));
  writeAll(dir + "/snapshot.tmp", "half");
  ConfigStore again(dir);
  CHECK_TRUE(again.open().ok);
  auto report = again.recoveryReport();
  CHECK(report.snapshot == SnapshotUsed::Previous);
  CHECK_FALSE(report.needs_peer_copy);
  CHECK_EQUAL(2u, again.list("").size());
  CHECK_FALSE(access((dir + "/snapshot.tmp").c_str(), F_OK) == 0);
}

TEST(ConfigStore, BothSnapshotsCorruptRefusesToOpen) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    CHECK_TRUE(store.put("a", "1", {1, 1}).ok);
    CHECK_TRUE(store.snapshot().ok);
    CHECK_TRUE(store.put("b", "2", {1, 2}).ok);
    CHECK_TRUE(store.snapshot().ok);
  }
  flipByte(dir + "/snapshot.pb", 10);
  writeAll(dir + "/snapshot.prev.pb", "garbage");
  ConfigStore again(dir);
  auto s = again.open();
  CHECK_FALSE(s.ok);
  CHECK(contains(s.error, "snapshot.pb is corrupt"));
  CHECK(contains(s.error, "snapshot.prev.pb is corrupt"));
  CHECK(contains(s.error, "refusing to start"));
  CHECK_FALSE(again.get("a").has_value());
  CHECK_FALSE(again.put("x", "y", {9, 9}).ok);
}

TEST(ConfigStore, CorruptSnapshotWithoutAPreviousOneRefusesToOpen) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    CHECK_TRUE(store.put("a", "1", {1, 1}).ok);
    CHECK_TRUE(store.snapshot().ok);
  }
  CHECK_EQUAL(0, truncate((dir + "/snapshot.pb").c_str(), 5));
  ConfigStore again(dir);
  auto s = again.open();
  CHECK_FALSE(s.ok);
  CHECK(contains(s.error, "snapshot.prev.pb missing"));
}

// A full disk, for real: the write is cut short by RLIMIT_FSIZE in a child process, which
// reports what it saw through a pipe (CppUTest's checks must stay in the parent).
TEST(ConfigStore, FullDiskRefusesTheWriteAndChangesNothing) {
  {
    ConfigStore store(dir);
    CHECK_TRUE(store.open().ok);
    fill(store, 3);
  }
  off_t before = fileSize(journal);
  int fds[2];
  CHECK_EQUAL(0, pipe(fds));
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    signal(SIGXFSZ, SIG_IGN);
    std::string out;
    ConfigStore store(dir);
    auto opened = store.open();
    rlimit limit{static_cast<rlim_t>(before + 10), RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &limit);  // room for part of the header: a short write
    auto s = store.put("k4", std::string(4096, 'x'), {1, 4});
    out += std::string("opened=") + (opened.ok ? "1" : "0") + "\n";
    out += std::string("ok=") + (s.ok ? "1" : "0") + "\n";
    out += "error=" + s.error + "\n";
    out += "errno=" + std::to_string(s.sys_errno) + "\n";
    out += std::string("get=") + (store.get("k4") ? "found" : "none") + "\n";
    out += "last=" + dualsp::sp::toString(store.last()) + "\n";
    out += "size=" + std::to_string(fileSize(journal)) + "\n";
    // The store keeps working once there is room again.
    limit.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &limit);
    auto again = store.put("k5", "small", {1, 5});
    out += std::string("small=") + (again.ok ? "1" : "0") + "\n";
    (void)!write(fds[1], out.data(), out.size());
    _exit(0);
  }
  close(fds[1]);
  std::string got;
  char buf[1024];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  CHECK_EQUAL(pid, waitpid(pid, &status, 0));
  CHECK_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_TEXT(contains(got, "opened=1\n"), got.c_str());
  CHECK_TEXT(contains(got, "ok=0\n"), got.c_str());
  CHECK_TEXT(contains(got, "File too large"), got.c_str());
  CHECK_TEXT(contains(got, "errno=" + std::to_string(EFBIG) + "\n"), got.c_str());
  CHECK_TEXT(contains(got, "journal.log"), got.c_str());
  CHECK_TEXT(contains(got, "get=none\n"), got.c_str());
  CHECK_TEXT(contains(got, "last=1.3\n"), got.c_str());
  CHECK_TEXT(contains(got, "size=" + std::to_string(before) + "\n"), got.c_str());
  CHECK_TEXT(contains(got, "small=1\n"), got.c_str());
  // Nothing already stored was lost, and nothing half-written is replayed.
  ConfigStore after(dir);
  CHECK_TRUE(after.open().ok);
  CHECK_TRUE(after.recoveryReport().clean());
  CHECK_EQUAL(4u, after.list("").size());
  CHECK_FALSE(after.get("k4").has_value());
  STRCMP_EQUAL("small", after.get("k5")->value().c_str());
}

TEST(ConfigStore, UnwritableDirectoryFailsWithTheReason) {
  if (geteuid() == 0) {
    // root ignores directory permissions: use a path whose parent is a file instead.
    writeAll(tmp + "/file", "x");
    ConfigStore store(tmp + "/file/config");
    auto s = store.open();
    CHECK_FALSE(s.ok);
    CHECK_TEXT(contains(s.error, "Not a directory"), s.error.c_str());
  } else {
    chmod(tmp.c_str(), 0500);
    ConfigStore store(dir);
    auto s = store.open();
    chmod(tmp.c_str(), 0700);
    CHECK_FALSE(s.ok);
    CHECK_TEXT(contains(s.error, "Permission denied"), s.error.c_str());
  }
}

// A full filesystem, for real (a 64 KiB tmpfs): the journal and the snapshot carry ENOSPC as
// an errno, which is what the service decides "disk full" on.
TEST(ConfigStore, AFullFilesystemIsReportedAsENOSPCByTheJournalAndTheSnapshot) {
  int rc = dualsp::sp::testing::inFullFilesystem([](const std::string& mount) {
    ConfigStore store(mount + "/config");
    if (!store.open().ok || !store.put("k1", "v", {1, 1}).ok) return 1;
    dualsp::sp::testing::fillUp(mount);
    auto put = store.put("k2", std::string(8192, 'x'), {1, 2});
    if (put.ok || put.sys_errno != ENOSPC) return 2;
    auto snap = store.snapshot();
    if (snap.ok || snap.sys_errno != ENOSPC) return 3;
    if (store.get("k2") || !store.get("k1")) return 4;
    return 0;
  });
  if (rc == -1) {
    UT_PRINT("NOT RUN: mounting a small tmpfs needs CAP_SYS_ADMIN (run as root)");
    return;
  }
  CHECK_EQUAL(0, rc);
}
