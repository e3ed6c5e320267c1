#include "sp/config_store/config_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "platform/log.hpp"
#include "sp/durable_file.hpp"

namespace dualsp::sp {

namespace {

constexpr const char* kSnapshot = "snapshot.pb";
constexpr const char* kPreviousSnapshot = "snapshot.prev.pb";
constexpr const char* kSnapshotTmp = "snapshot.tmp";
constexpr const char* kJournal = "journal.log";

enum class LoadResult { Missing, Good, Bad };

std::string sysError(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + strerror(err);
}

LoadResult loadSnapshot(const std::string& path, proto::ConfigSnapshot& snap,
                        std::string& problem) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return LoadResult::Missing;
    problem = sysError("open", path, errno);
    return LoadResult::Bad;
  }
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) data.append(buf, static_cast<size_t>(n));
  }
  int err = errno;
  close(fd);
  if (n < 0) {
    problem = sysError("read", path, err);
    return LoadResult::Bad;
  }
  size_t offset = 0;
  std::string_view payload;
  FrameResult r = decodeFrame(data, offset, payload);
  if (r == FrameResult::End) r = FrameResult::Short;  // an empty snapshot file is torn too
  if (r != FrameResult::Ok) {
    problem = path + " is corrupt: " + frameResultName(r);
    return LoadResult::Bad;
  }
  if (offset != data.size()) {
    problem = path + " is corrupt: " + std::to_string(data.size() - offset) + " stray bytes";
    return LoadResult::Bad;
  }
  if (!snap.ParseFromString(std::string(payload))) {
    problem = path + " is corrupt: checksum good but it does not parse";
    return LoadResult::Bad;
  }
  Version last{snap.last().epoch(), snap.last().seq()};
  for (const auto& record : snap.records()) {
    if (record.key().empty() || last < versionOf(record)) {
      problem = path + " is inconsistent: a record is empty or newer than the snapshot";
      return LoadResult::Bad;
    }
  }
  return LoadResult::Good;
}

bool hasPrefix(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string toString(Version v) {
  return std::to_string(v.epoch) + "." + std::to_string(v.seq);
}

Version versionOf(const ConfigRecord& record) {
  return {record.version().epoch(), record.version().seq()};
}

const char* snapshotUsedName(SnapshotUsed used) {
  switch (used) {
    case SnapshotUsed::None:
      return "none";
    case SnapshotUsed::Current:
      return "current";
    case SnapshotUsed::Previous:
      return "previous";
  }
  return "?";
}

std::string RecoveryReport::describe() const {
  std::ostringstream out;
  out << "snapshot " << snapshotUsedName(snapshot) << " (" << snapshot_records << " records), "
      << records_replayed << " journal records replayed, " << records_skipped << " skipped, "
      << bytes_cut << " bytes cut" << (needs_peer_copy ? ", needs the peer's copy" : "");
  for (const auto& p : problems) out << "; " << p;
  return out.str();
}

ConfigStore::ConfigStore(std::string dir, size_t snapshot_every)
    : dir_(std::move(dir)),
      snapshot_every_(std::max<size_t>(snapshot_every, 1)),
      journal_(dir_ + "/" + kJournal) {}

platform::Status ConfigStore::open() {
  std::lock_guard lock(mutex_);
  open_ = false;
  records_.clear();
  last_ = {};
  report_ = {};
  auto status = recoverLocked();
  if (!status.ok) {
    records_.clear();
    last_ = {};
    LOG_ERROR << "configuration store " << dir_ << " not opened: " << status.error;
    return status;
  }
  open_ = true;
  if (report_.clean()) {
    LOG_INFO << "configuration store " << dir_ << ": " << report_.describe();
  } else {
    LOG_WARNING << "configuration store " << dir_ << " recovered: " << report_.describe();
  }
  return status;
}

platform::Status ConfigStore::recoverLocked() {
  if (mkdir(dir_.c_str(), 0750) != 0 && errno != EEXIST) {
    int err = errno;
    return platform::Status::failure(sysError("create", dir_, err), err);
  }
  unlink((dir_ + "/" + kSnapshotTmp).c_str());  // an interrupted snapshot, never renamed

  proto::ConfigSnapshot snap;
  std::string current_problem;
  std::string previous_problem;
  LoadResult current = loadSnapshot(dir_ + "/" + kSnapshot, snap, current_problem);
  if (current == LoadResult::Good) {
    report_.snapshot = SnapshotUsed::Current;
  } else {
    snap.Clear();
    LoadResult previous = loadSnapshot(dir_ + "/" + kPreviousSnapshot, snap, previous_problem);
    if (current == LoadResult::Bad && previous == LoadResult::Good) {
      // The journal was emptied when the current snapshot was written, so whatever that
      // snapshot held beyond the previous one is gone here: only the peer still has it.
      report_.snapshot = SnapshotUsed::Previous;
      report_.needs_peer_copy = true;
      report_.problems.push_back(current_problem + "; fell back to " + kPreviousSnapshot +
                                 " and the journal, changes since may be missing");
    } else if (current == LoadResult::Missing && previous == LoadResult::Good) {
      // A snapshot interrupted between its two renames: the journal was not emptied yet,
      // so the previous snapshot plus the journal is the whole state.
      report_.snapshot = SnapshotUsed::Previous;
      report_.problems.push_back(std::string(kSnapshot) + " missing (interrupted snapshot); used " +
                                 kPreviousSnapshot + " and the journal");
    } else if (current == LoadResult::Bad) {
      return platform::Status::failure(
          current_problem + "; " +
          (previous == LoadResult::Bad ? previous_problem
                                       : std::string(kPreviousSnapshot) + " missing") +
          "; refusing to start with wrong configuration: restore it from the peer SP");
    } else if (previous == LoadResult::Bad) {
      return platform::Status::failure(
          std::string(kSnapshot) + " missing and " + previous_problem +
          "; refusing to start with wrong configuration: restore it from the peer SP");
    }
  }
  for (const auto& record : snap.records()) records_[record.key()] = record;
  last_ = {snap.last().epoch(), snap.last().seq()};
  report_.snapshot_records = static_cast<size_t>(snap.records_size());

  JournalScan scan;
  auto status = journal_.open(scan);
  if (!status.ok) return status;
  Version snapshot_last = last_;
  uint64_t cut_at = scan.good_length;
  size_t kept = 0;
  std::string bad = scan.stop == FrameResult::End ? "" : frameResultName(scan.stop);
  for (const auto& frame : scan.frames) {
    ConfigRecord record;
    if (!record.ParseFromString(frame.payload) || record.key().empty()) {
      cut_at = frame.offset;
      bad = "checksum good but the record does not parse";
      break;
    }
    Version v = versionOf(record);
    if (v <= snapshot_last) {
      ++report_.records_skipped;  // journal not yet emptied after that snapshot
    } else if (v <= last_) {
      cut_at = frame.offset;
      bad = "record " + toString(v) + " is not newer than the one before it";
      break;
    } else {
      applyLocked(record);
      ++report_.records_replayed;
    }
    ++kept;
  }
  if (cut_at < scan.file_length) {
    report_.bytes_cut = scan.file_length - cut_at;
    // A short tail is a write that never completed, so never acknowledged; anything else
    // destroyed a record that was fsynced, and possibly acknowledged.
    bool torn = scan.stop == FrameResult::Short && kept == scan.frames.size();
    if (!torn) report_.needs_peer_copy = true;
    report_.problems.push_back(
        std::string(kJournal) + ": " + bad + " at offset " + std::to_string(cut_at) + "; cut " +
        std::to_string(report_.bytes_cut) + " bytes, kept " + std::to_string(kept) + " records");
    status = journal_.truncateTo(cut_at, kept);
    if (!status.ok) return status;
  }
  return syncDirectory(dir_);
}

RecoveryReport ConfigStore::recoveryReport() const {
  std::lock_guard lock(mutex_);
  return report_;
}

void ConfigStore::clearNeedsPeerCopy() {
  std::lock_guard lock(mutex_);
  report_.needs_peer_copy = false;
}

void ConfigStore::applyLocked(const ConfigRecord& record) {
  records_[record.key()] = record;
  last_ = versionOf(record);
}

platform::Status ConfigStore::put(const std::string& key, const std::string& value, Version v) {
  ConfigRecord record;
  record.set_key(key);
  record.set_value(value);
  record.mutable_version()->set_epoch(v.epoch);
  record.mutable_version()->set_seq(v.seq);
  std::lock_guard lock(mutex_);
  return commitLocked(std::move(record));
}

platform::Status ConfigStore::remove(const std::string& key, Version v) {
  ConfigRecord record;
  record.set_key(key);
  record.set_deleted(true);
  record.mutable_version()->set_epoch(v.epoch);
  record.mutable_version()->set_seq(v.seq);
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (open_ && (it == records_.end() || it->second.deleted()))
    return platform::Status::failure("no configuration record '" + key + "' to remove");
  return commitLocked(std::move(record));
}

platform::Status ConfigStore::commitLocked(ConfigRecord record) {
  return commitBatchLocked({std::move(record)});
}

platform::Status ConfigStore::commit(const std::vector<ConfigRecord>& records) {
  std::lock_guard lock(mutex_);
  return commitBatchLocked(records);
}

platform::Status ConfigStore::commitBatchLocked(const std::vector<ConfigRecord>& records) {
  if (!open_) return platform::Status::failure("configuration store " + dir_ + " is not open");
  if (records.empty()) return platform::Status::success();
  Version prev = last_;
  std::vector<std::string> payloads;
  for (const auto& record : records) {
    if (record.key().empty()) return platform::Status::failure("empty configuration key");
    Version v = versionOf(record);
    if (v <= prev)
      return platform::Status::failure("version " + toString(v) + " of '" + record.key() +
                                       "' is not newer than " + toString(prev));
    prev = v;
    payloads.push_back(record.SerializeAsString());
  }
  auto status = journal_.appendBatch(payloads);
  if (!status.ok) {
    LOG_ERROR << "configuration change to '" << records.front().key()
              << "' refused: " << status.error;
    return status;
  }
  for (const auto& record : records) applyLocked(record);
  if (journal_.records() >= snapshot_every_) {
    // The change is durable in the journal already; a failed snapshot only delays compaction.
    auto snap = snapshotLocked();
    if (!snap.ok) LOG_WARNING << "configuration snapshot failed: " << snap.error;
  }
  return platform::Status::success();
}

std::optional<ConfigRecord> ConfigStore::get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end() || it->second.deleted()) return std::nullopt;
  return it->second;
}

std::vector<ConfigRecord> ConfigStore::list(const std::string& prefix) const {
  std::lock_guard lock(mutex_);
  std::vector<ConfigRecord> out;
  for (auto it = records_.lower_bound(prefix); it != records_.end(); ++it) {
    if (!hasPrefix(it->first, prefix)) break;
    if (!it->second.deleted()) out.push_back(it->second);
  }
  return out;
}

std::vector<ConfigRecord> ConfigStore::listAfter(const std::string& prefix,
                                                 const std::string& after_key, size_t max) const {
  std::lock_guard lock(mutex_);
  std::vector<ConfigRecord> out;
  auto it = after_key.empty() ? records_.lower_bound(prefix) : records_.upper_bound(after_key);
  for (; it != records_.end() && out.size() < max; ++it) {
    if (!hasPrefix(it->first, prefix)) break;
    if (!it->second.deleted()) out.push_back(it->second);
  }
  return out;
}

std::optional<ConfigRecord> ConfigStore::lastUnder(const std::string& prefix) const {
  std::lock_guard lock(mutex_);
  // The first key past every key under `prefix`: prefix with its last byte incremented.
  std::string end = prefix;
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(end.back() + 1);
  auto it = records_.lower_bound(end);
  while (it != records_.begin()) {
    --it;
    if (!hasPrefix(it->first, prefix)) return std::nullopt;
    if (!it->second.deleted()) return it->second;
  }
  return std::nullopt;
}

std::optional<ConfigRecord> ConfigStore::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

Version ConfigStore::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

std::vector<ConfigRecord> ConfigStore::since(Version v) const {
  std::lock_guard lock(mutex_);
  std::vector<ConfigRecord> out;
  for (const auto& [key, record] : records_) {
    if (v < versionOf(record)) out.push_back(record);
  }
  std::sort(out.begin(), out.end(), [](const ConfigRecord& a, const ConfigRecord& b) {
    return versionOf(a) < versionOf(b);
  });
  return out;
}

bool ConfigStore::isOpen() const {
  std::lock_guard lock(mutex_);
  return open_;
}

proto::ConfigSnapshot ConfigStore::copy() const {
  std::lock_guard lock(mutex_);
  proto::ConfigSnapshot snap;
  snap.mutable_last()->set_epoch(last_.epoch);
  snap.mutable_last()->set_seq(last_.seq);
  for (const auto& [key, record] : records_) *snap.add_records() = record;
  return snap;
}

platform::Status ConfigStore::install(const proto::ConfigSnapshot& snap) {
  std::lock_guard lock(mutex_);
  if (!open_) return platform::Status::failure("configuration store " + dir_ + " is not open");
  Version last{snap.last().epoch(), snap.last().seq()};
  for (const auto& record : snap.records())
    if (record.key().empty() || last < versionOf(record))
      return platform::Status::failure(
          "the peer's copy is inconsistent: a record is empty "
          "or newer than the copy");
  auto old_records = std::move(records_);
  Version old_last = last_;
  records_.clear();
  for (const auto& record : snap.records()) records_[record.key()] = record;
  last_ = last;
  auto status = snapshotLocked();
  if (!status.ok) {
    // Nothing renamed yet, or only the previous snapshot: memory goes back as it was, and
    // recovery reads the old snapshot plus the journal, which was not emptied.
    records_ = std::move(old_records);
    last_ = old_last;
    LOG_ERROR << "installing the peer's copy of the configuration failed: " << status.error;
    return status;
  }
  report_.needs_peer_copy = false;
  return status;
}

platform::Status ConfigStore::snapshot() {
  std::lock_guard lock(mutex_);
  if (!open_) return platform::Status::failure("configuration store " + dir_ + " is not open");
  return snapshotLocked();
}

platform::Status ConfigStore::snapshotLocked() {
  proto::ConfigSnapshot snap;
  snap.mutable_last()->set_epoch(last_.epoch);
  snap.mutable_last()->set_seq(last_.seq);
  for (const auto& [key, record] : records_) *snap.add_records() = record;
  std::string current = dir_ + "/" + kSnapshot;
  std::string previous = dir_ + "/" + kPreviousSnapshot;
  std::string tmp = dir_ + "/" + kSnapshotTmp;
  // A failure before the second rename leaves the old snapshot; after it, recovery reads
  // previous snapshot + journal (an interrupted snapshot).
  auto status = writeFileDurably(current, encodeFrame(snap.SerializeAsString()),
                                 {.tmp_path = tmp, .keep_previous_as = previous});
  if (!status.ok) return status;
  // Only now may the journal go: the new snapshot is durable. If this fails, replay
  // skips the records the snapshot already holds.
  return journal_.clear();
}

}  // namespace dualsp::sp
