// iscsi-host: the test host of the array's data path (docs/ISCSI-HOST.md). A user-space
// iSCSI initiator (libiscsi) that logs in to every portal it is given and behaves like a
// host's multipath driver: one LU seen through several paths (same NAA in VPD 0x83), I/O on
// the best path by ALUA state (REPORT TARGET PORT GROUPS), failover on a path failure or an
// ALUA transition, bounded retries. Every operation has a deadline: nothing waits for ever.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" {
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
}

namespace {

// Exit codes (docs/ISCSI-HOST.md "Exit codes"); stable, tests depend on them.
enum Exit : int {
  kOk = 0,
  kMismatch = 1,    // verify: data read back differs from what was acknowledged
  kUsage = 2,       // bad command line
  kNoPortal = 3,    // ls: a portal could not be logged in to; others: none could
  kNoLun = 4,       // the LU (--lun-id) is seen on no path
  kIoFailed = 5,    // an I/O found no usable path within --retry-seconds
  kScsiError = 6,   // a SCSI error that is not a path problem (the LU refused the I/O)
  kLocalError = 7,  // the record file cannot be read or written
};

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

struct Options {
  std::string initiator;
  std::vector<std::string> portals;
  std::string command;
  std::string lun_id;
  uint64_t seed = 1;
  uint64_t blocks = 64;
  uint64_t generation = 1;
  double seconds = 10;
  uint64_t max_writes = 1000000;
  double retry_seconds = 30;
  double timeout = 5;  // seconds, every iSCSI/SCSI operation
  std::string record;
  bool json = false;
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
uint16_t be16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}

// ---------------------------------------------------------------------------------------
// One libiscsi operation, asynchronous, driven by a poll loop with a deadline.

struct Pending {
  bool done = false;
  int status = 0;
  void* data = nullptr;
};

void on_done(iscsi_context*, int status, void* command_data, void* priv) {
  auto* p = static_cast<Pending*>(priv);
  p->done = true;
  p->status = status;
  p->data = command_data;
}

// Services ctx until p is done or the deadline passes. False (with err) on a timeout or a
// connection failure; the context is then unusable and the caller destroys it.
bool wait_for(iscsi_context* ctx, Pending& p, Clock::time_point deadline, std::string& err) {
  while (!p.done) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      err = "timeout";
      return false;
    }
    pollfd pfd{iscsi_get_fd(ctx), short(iscsi_which_events(ctx)), 0};
    int r = poll(&pfd, 1, int(std::min<int64_t>(left.count(), 100)));
    if (r < 0 && errno != EINTR) {
      err = std::string("poll: ") + strerror(errno);
      return false;
    }
    if (iscsi_service(ctx, r > 0 ? pfd.revents : 0) < 0) {
      err = iscsi_get_error(ctx);
      if (err.empty()) err = "connection failed";
      return false;
    }
  }
  return true;
}

// The outcome of one SCSI command.
struct Result {
  enum Kind { kGood, kCheck, kPath, kOther } kind = kPath;
  int status = 0;
  int key = 0, asc = 0, ascq = 0;
  Bytes data;
  std::string err;
  std::string describe() const {
    char b[160];
    switch (kind) {
      case kGood:
        return "good";
      case kCheck:
        snprintf(b, sizeof b, "CHECK CONDITION key %xh ASC %02xh ASCQ %02xh", key, asc, ascq);
        return b;
      case kPath:
        return "path failure: " + err;
      default:
        snprintf(b, sizeof b, "SCSI status 0x%x", status);
        return b;
    }
  }
};

// ALUA asymmetric access states (SPC-4 REPORT TARGET PORT GROUPS).
enum Alua : int {
  kOptimized = 0,
  kNonOptimized = 1,
  kStandby = 2,
  kUnavailable = 3,
  kOffline = 0xe,
  kTransitioning = 0xf,
  kUnknown = -1,
};

const char* alua_name(int s) {
  switch (s) {
    case kOptimized:
      return "active/optimized";
    case kNonOptimized:
      return "active/non-optimized";
    case kStandby:
      return "standby";
    case kUnavailable:
      return "unavailable";
    case kOffline:
      return "offline";
    case kTransitioning:
      return "transitioning";
    default:
      return "unknown";
  }
}

// A path changed its ALUA state (or is changing it): re-read RTPG and pick a path again.
bool path_changed(const Result& r) {
  if (r.kind != Result::kCheck) return false;
  if (r.key == SCSI_SENSE_NOT_READY && r.asc == 0x04 &&
      (r.ascq == 0x0a || r.ascq == 0x0b || r.ascq == 0x0c))
    return true;
  if (r.key == SCSI_SENSE_UNIT_ATTENTION && r.asc == 0x2a && r.ascq == 0x06) return true;
  return false;
}

// ---------------------------------------------------------------------------------------
// A path: one portal, one target, one session.

struct LuInfo {
  int lun = -1;
  std::string id;  // "naa.<hex>" (or t10./eui. when the LU has no NAA designator)
  uint64_t blocks = 0;
  uint32_t block_size = 0;
  bool alua = false;                     // INQUIRY TPGS != 0
  int tpg = -1;                          // target port group designator of VPD 0x83
  int rel_port = -1;                     // relative target port designator of VPD 0x83
  std::vector<std::string> designators;  // every LU designator of VPD 0x83, as "type:hex"
};

struct Path {
  std::string portal, target;
  iscsi_context* ctx = nullptr;
  std::string error;  // why it is down
  std::vector<LuInfo> lus;
  int state = kUnknown;  // ALUA state of the selected LU's TPG on this path
  bool rtpg_supported = false;
  Clock::time_point last_reconnect{};

  bool alive() const { return ctx != nullptr; }
  std::string name() const { return portal + "," + target; }

  void drop(const std::string& why) {
    if (ctx) iscsi_destroy_context(ctx);  // cancels what is in flight
    ctx = nullptr;
    error = why;
  }
};

double g_timeout = 5;  // seconds

std::chrono::milliseconds timeout_ms() {
  return std::chrono::milliseconds(int64_t(g_timeout * 1000));
}

// The deadline of one operation, to the millisecond. libiscsi's own timeout
// (iscsi_set_timeout) is not used: it counts whole seconds of time(NULL), so a 1 s timeout
// fires anywhere between 0 and 1 s after the command was sent.
Clock::time_point op_deadline() {
  return Clock::now() + timeout_ms();
}

iscsi_context* make_context(const std::string& iqn) {
  iscsi_context* ctx = iscsi_create_context(iqn.c_str());
  if (!ctx) return nullptr;
  iscsi_set_timeout(ctx, 0);          // op_deadline() instead
  iscsi_set_noautoreconnect(ctx, 1);  // the multipath logic decides, not libiscsi
  iscsi_set_tcp_user_timeout(ctx, int(timeout_ms().count()));
  iscsi_set_tcp_syncnt(ctx, 2);
  return ctx;
}

std::string with_port(const std::string& portal) {
  auto colon = portal.rfind(':');
  if (colon == std::string::npos || portal.back() == ']') return portal + ":3260";
  return portal;
}

// Connects and logs in; ctx must be configured (session type, target name).
bool login(iscsi_context* ctx, const std::string& portal, std::string& err) {
  Pending p;
  if (iscsi_connect_async(ctx, portal.c_str(), on_done, &p) != 0) {
    err = iscsi_get_error(ctx);
    return false;
  }
  if (!wait_for(ctx, p, op_deadline(), err)) return false;
  if (p.status != SCSI_STATUS_GOOD) {
    err = std::string("connect: ") + iscsi_get_error(ctx);
    return false;
  }
  Pending l;
  if (iscsi_login_async(ctx, on_done, &l) != 0) {
    err = iscsi_get_error(ctx);
    return false;
  }
  if (!wait_for(ctx, l, op_deadline(), err)) return false;
  if (l.status != SCSI_STATUS_GOOD) {
    err = std::string("login: ") + iscsi_get_error(ctx);
    return false;
  }
  return true;
}

// The discovery reply is freed by libiscsi when its callback returns: copied in the callback.
struct DiscoveryPending : Pending {
  std::vector<std::string> names;
};

void on_discovery(iscsi_context*, int status, void* command_data, void* priv) {
  auto* p = static_cast<DiscoveryPending*>(priv);
  p->done = true;
  p->status = status;
  if (status == SCSI_STATUS_GOOD)
    for (auto* a = static_cast<iscsi_discovery_address*>(command_data); a; a = a->next)
      p->names.push_back(a->target_name);
}

// SendTargets discovery on one portal: the target names it offers.
bool discover(const std::string& iqn, const std::string& portal, std::vector<std::string>& out,
              std::string& err) {
  iscsi_context* ctx = make_context(iqn);
  if (!ctx) {
    err = "cannot create an iSCSI context";
    return false;
  }
  iscsi_set_session_type(ctx, ISCSI_SESSION_DISCOVERY);
  bool ok = login(ctx, portal, err);
  if (ok) {
    DiscoveryPending d;
    if (iscsi_discovery_async(ctx, on_discovery, &d) != 0) {
      err = iscsi_get_error(ctx);
      ok = false;
    } else if (!wait_for(ctx, d, op_deadline(), err)) {
      ok = false;
    } else if (d.status != SCSI_STATUS_GOOD) {
      err = std::string("discovery: ") + iscsi_get_error(ctx);
      ok = false;
    } else {
      out = d.names;
    }
  }
  iscsi_destroy_context(ctx);
  return ok;
}

bool open_path(const std::string& iqn, Path& path) {
  iscsi_context* ctx = make_context(iqn);
  if (!ctx) {
    path.error = "cannot create an iSCSI context";
    return false;
  }
  iscsi_set_targetname(ctx, path.target.c_str());
  iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C);
  std::string err;
  if (!login(ctx, path.portal, err)) {
    iscsi_destroy_context(ctx);
    path.error = err;
    return false;
  }
  path.ctx = ctx;
  path.error.clear();
  return true;
}

// Runs one SCSI command on a path. A connection failure or a timeout drops the path.
Result scsi(Path& path, int lun, const uint8_t* cdb, int cdb_len, int dir, int xfer,
            const Bytes* out = nullptr) {
  Result r;
  if (!path.ctx) {
    r.err = path.error.empty() ? "path down" : path.error;
    return r;
  }
  scsi_task* task = scsi_create_task(cdb_len, const_cast<uint8_t*>(cdb), dir, xfer);
  if (!task) {
    r.err = "out of memory";
    return r;
  }
  iscsi_data data{};
  if (out) {
    data.size = out->size();
    data.data = const_cast<uint8_t*>(out->data());
  }
  Pending p;
  if (iscsi_scsi_command_async(path.ctx, lun, task, on_done, out ? &data : nullptr, &p) != 0) {
    r.err = iscsi_get_error(path.ctx);
    scsi_free_scsi_task(task);
    path.drop(r.err);
    return r;
  }
  if (!wait_for(path.ctx, p, op_deadline(), r.err)) {
    path.drop(r.err);  // cancels the task; libiscsi owns it no more, we leak it once
    return r;
  }
  r.status = p.status;
  if (p.status == SCSI_STATUS_GOOD) {
    r.kind = Result::kGood;
    r.data.assign(task->datain.data, task->datain.data + task->datain.size);
  } else if (p.status == SCSI_STATUS_CHECK_CONDITION) {
    r.kind = Result::kCheck;
    r.key = task->sense.key;
    r.asc = task->sense.ascq >> 8;
    r.ascq = task->sense.ascq & 0xff;
  } else if (p.status == SCSI_STATUS_TIMEOUT || p.status == SCSI_STATUS_ERROR ||
             p.status == SCSI_STATUS_CANCELLED) {
    r.kind = Result::kPath;
    r.err = p.status == SCSI_STATUS_TIMEOUT ? "timeout" : iscsi_get_error(path.ctx);
    scsi_free_scsi_task(task);
    path.drop(r.err);
    return r;
  } else {
    r.kind = Result::kOther;  // BUSY, TASK SET FULL, RESERVATION CONFLICT...
  }
  scsi_free_scsi_task(task);
  return r;
}

// A command that may meet unit attentions left by the login (power on, reset): they are
// consumed and the command repeated, a few times. An ALUA unit attention is returned.
Result scsi_ua(Path& path, int lun, const uint8_t* cdb, int len, int dir, int xfer) {
  Result r;
  for (int i = 0; i < 4; ++i) {
    r = scsi(path, lun, cdb, len, dir, xfer);
    if (r.kind != Result::kCheck || r.key != SCSI_SENSE_UNIT_ATTENTION) break;
  }
  return r;
}

Result inquiry(Path& p, int lun, int page, int len) {
  uint8_t cdb[6] = {
      0x12, uint8_t(page >= 0), uint8_t(page >= 0 ? page : 0), uint8_t(len >> 8), uint8_t(len), 0};
  return scsi_ua(p, lun, cdb, 6, SCSI_XFER_READ, len);
}

// REPORT TARGET PORT GROUPS: TPG id -> ALUA state. Empty when unsupported.
std::optional<std::map<int, int>> rtpg(Path& p, int lun, Result* res = nullptr) {
  uint8_t cdb[12] = {0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0};  // 4096 bytes
  Result r = scsi_ua(p, lun, cdb, 12, SCSI_XFER_READ, 4096);
  if (res) *res = r;
  if (r.kind != Result::kGood || r.data.size() < 4) return std::nullopt;
  std::map<int, int> out;
  size_t end = std::min<size_t>(r.data.size(), 4 + be32(r.data.data()));
  for (size_t o = 4; o + 8 <= end;) {
    const uint8_t* d = &r.data[o];
    out[be16(d + 2)] = d[0] & 0x0f;
    o += 8 + 4 * size_t(d[7]);
  }
  return out;
}

// Lists the path's disk LUs: identifier, capacity, TPG.
bool probe_lus(Path& p, std::string& err) {
  p.lus.clear();
  uint8_t cdb[12] = {0xa0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0};  // REPORT LUNS, 16 KiB
  Result r = scsi_ua(p, 0, cdb, 12, SCSI_XFER_READ, 16384);
  if (r.kind != Result::kGood || r.data.size() < 8) {
    err = "REPORT LUNS: " + r.describe();
    return false;
  }
  size_t end = std::min<size_t>(r.data.size(), 8 + be32(r.data.data()));
  for (size_t o = 8; o + 8 <= end; o += 8) {
    int lun = (r.data[o] & 0x3f) << 8 | r.data[o + 1];
    Result std_inq = inquiry(p, lun, -1, 96);
    if (std_inq.kind != Result::kGood || std_inq.data.size() < 6) continue;
    if ((std_inq.data[0] & 0xe0) != 0 || (std_inq.data[0] & 0x1f) != 0) continue;  // disks only
    LuInfo lu;
    lu.lun = lun;
    lu.alua = (std_inq.data[5] >> 4 & 3) != 0;
    Result vpd = inquiry(p, lun, 0x83, 1024);
    std::string naa, other;
    int naa_format = 0;
    if (vpd.kind == Result::kGood && vpd.data.size() >= 4) {
      size_t vend = std::min<size_t>(vpd.data.size(), 4 + be16(&vpd.data[2]));
      for (size_t o2 = 4; o2 + 4 <= vend;) {
        const uint8_t* d = &vpd.data[o2];
        int assoc = d[1] >> 4 & 3, type = d[1] & 0x0f, len = d[3];
        if (o2 + 4 + len > vend) break;
        const uint8_t* v = d + 4;
        if (assoc == 0) lu.designators.push_back(std::to_string(type) + ":" + hex(v, len));
        // Of several NAA designators the highest NAA format wins (6 registered extended,
        // then 5, then 3 locally assigned), as multipath-tools picks them.
        if (assoc == 0 && type == 3 && len > 0 && (naa.empty() || (v[0] >> 4) > naa_format)) {
          naa = "naa." + hex(v, len);
          naa_format = v[0] >> 4;
        }
        if (assoc == 0 && type == 2 && other.empty()) other = "eui." + hex(v, len);
        if (assoc == 0 && type == 1 && other.empty()) {
          std::string t(reinterpret_cast<const char*>(v), len);
          while (!t.empty() && (t.back() == ' ' || t.back() == 0)) t.pop_back();
          other = "t10." + t;
        }
        if (assoc == 1 && type == 5 && len >= 4) lu.tpg = be16(v + 2);
        if (assoc == 1 && type == 4 && len >= 4) lu.rel_port = be16(v + 2);
        o2 += 4 + len;
      }
    }
    lu.id = !naa.empty() ? naa : other;
    uint8_t rc[16] = {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
    Result cap = scsi_ua(p, lun, rc, 16, SCSI_XFER_READ, 32);
    if (cap.kind == Result::kGood && cap.data.size() >= 12) {
      lu.blocks = be64(cap.data.data()) + 1;
      lu.block_size = be32(&cap.data[8]);
    }
    p.lus.push_back(lu);
  }
  return true;
}

// The ALUA state of lu's group on path p; a path without ALUA (INQUIRY TPGS 0, or RTPG
// refused) counts as active/optimized until it fails.
int path_state(Path& p, const LuInfo& lu) {
  p.rtpg_supported = false;
  if (!lu.alua) return kOptimized;
  Result r;
  auto groups = rtpg(p, lu.lun, &r);
  if (!groups) {
    if (!p.alive()) return kUnknown;
    if (r.kind == Result::kCheck && r.key == SCSI_SENSE_ILLEGAL_REQUEST) return kOptimized;
    return kUnknown;
  }
  p.rtpg_supported = true;
  if (lu.tpg >= 0 && groups->count(lu.tpg)) return groups->at(lu.tpg);
  if (groups->size() == 1) return groups->begin()->second;
  return kUnknown;
}

// ---------------------------------------------------------------------------------------
// Every path to every portal.

struct Fabric {
  const Options& o;
  std::vector<Path> paths;
  std::vector<std::pair<std::string, std::string>> portal_errors;  // portal, error

  explicit Fabric(const Options& opt) : o(opt) {}
  ~Fabric() {
    for (auto& p : paths) p.drop("closed");
  }

  void connect_all() {
    for (const auto& raw : o.portals) {
      std::string portal = with_port(raw);
      std::vector<std::string> targets;
      std::string err;
      if (!discover(o.initiator, portal, targets, err)) {
        portal_errors.emplace_back(portal, err);
        continue;
      }
      if (targets.empty()) portal_errors.emplace_back(portal, "no target offered");
      for (const auto& t : targets) {
        Path p;
        p.portal = portal;
        p.target = t;
        if (open_path(o.initiator, p)) {
          std::string e;
          if (!probe_lus(p, e)) p.drop(e);
        }
        if (!p.alive()) portal_errors.emplace_back(portal, t + ": " + p.error);
        paths.push_back(std::move(p));
      }
    }
  }
};

// One LU through its paths: I/O on the best path, failover, stalls.
class Multipath {
 public:
  Multipath(Fabric& f, const std::string& id) : f_(f), id_(id) {
    for (size_t i = 0; i < f.paths.size(); ++i)
      for (const auto& lu : f.paths[i].lus)
        if (lu.id == id) {
          members_.push_back(i);
          lu_.push_back(lu);
          break;
        }
  }
  bool found() const { return !members_.empty(); }
  uint32_t block_size() const { return lu_.empty() ? 0 : lu_[0].block_size; }
  uint64_t blocks() const { return lu_.empty() ? 0 : lu_[0].blocks; }

  struct Stall {
    double ms;
    std::string from, to, reason;
  };
  std::vector<Stall> stalls;
  int switches = 0;
  std::string fatal;  // set when an I/O fails for good

  // Picks the best path from the ALUA states read now; false when none is usable.
  bool select(const Clock::time_point& deadline) {
    last_select_ = Clock::now();
    int best = -1, best_state = 99;
    for (size_t k = 0; k < members_.size(); ++k) {
      Path& p = path(k);
      if (!p.alive() && Clock::now() - p.last_reconnect > std::chrono::seconds(1) &&
          Clock::now() < deadline) {
        p.last_reconnect = Clock::now();  // a dead path is tried again, once a second
        if (open_path(f_.o.initiator, p)) {
          std::string e;
          if (!probe_lus(p, e)) p.drop(e);
        }
      }
      if (!p.alive()) continue;
      p.state = path_state(p, lu_[k]);
      int rank = p.state == kOptimized ? 0 : p.state == kNonOptimized ? 1 : 99;
      // Ties keep the current path: no flapping between equal paths.
      if (rank < best_state || (rank == best_state && rank < 99 && int(k) == current_)) {
        best = int(k);
        best_state = rank;
      }
    }
    if (best < 0 || best_state == 99) return false;
    current_ = best;
    return true;
  }

  std::string current_name() { return current_ >= 0 ? path(current_).name() : "none"; }

  // Reads or writes one block with failover; false when it failed for good (fatal set, and
  // exit_code the reason).
  bool io(bool write, uint64_t lba, Bytes& buf) {
    auto first_fail = Clock::time_point{};
    std::string from, reason;
    auto deadline = Clock::time_point::max();
    uint32_t bs = block_size();
    uint8_t cdb[16] = {uint8_t(write ? 0x8a : 0x88), 0};
    for (int i = 0; i < 8; ++i) cdb[2 + i] = uint8_t(lba >> (56 - 8 * i));
    cdb[13] = 1;  // one block
    for (;;) {
      // The path checker: on a path that is not active/optimized, the states are read again
      // once a second, so the host moves to a path that became optimized without telling
      // this one (a planned move swaps the states on two SPs; only the SP that changed
      // raises a unit attention, and it may have done so before the other was optimized).
      if (current_ >= 0 && path(current_).alive() && path(current_).state != kOptimized &&
          Clock::now() - last_select_ >= std::chrono::seconds(1))
        select(Clock::now() + timeout_ms());
      if (current_ < 0 || !path(current_).alive()) {
        if (first_fail == Clock::time_point{}) {
          first_fail = Clock::now();
          deadline = first_fail + std::chrono::milliseconds(int64_t(f_.o.retry_seconds * 1000));
          from = current_name();
          reason = "no path";
        }
        if (!select(deadline)) {
          if (Clock::now() >= deadline) {
            fatal = "no usable path for " + std::to_string(f_.o.retry_seconds) +
                    " s (last: " + reason + ")";
            exit_code = kIoFailed;
            return false;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retry backoff
          continue;
        }
      }
      Path& p = path(current_);
      int lun = lu_[current_].lun;
      Result r = write ? scsi(p, lun, cdb, 16, SCSI_XFER_WRITE, int(bs), &buf)
                       : scsi(p, lun, cdb, 16, SCSI_XFER_READ, int(bs));
      if (r.kind == Result::kGood) {
        if (!write) buf = r.data;
        // A switch is counted where I/O is acknowledged on another path than the last
        // acknowledged one (however many paths were tried in between).
        if (last_good_ >= 0 && last_good_ != current_) ++switches;
        last_good_ = current_;
        if (first_fail != Clock::time_point{}) {
          Stall s{ms_since(first_fail), from, p.name(), reason};
          printf("stall %.1f ms: %s -> %s (%s)\n", s.ms, s.from.c_str(), s.to.c_str(),
                 s.reason.c_str());
          fflush(stdout);
          stalls.push_back(s);
        }
        return true;
      }
      bool retryable = r.kind == Result::kPath || path_changed(r) || r.kind == Result::kOther ||
                       (r.kind == Result::kCheck && r.key == SCSI_SENSE_UNIT_ATTENTION);
      if (!retryable) {
        fatal = std::string(write ? "WRITE" : "READ") + " LBA " + std::to_string(lba) + ": " +
                r.describe();
        exit_code = kScsiError;
        return false;
      }
      if (first_fail == Clock::time_point{}) {
        first_fail = Clock::now();
        deadline = first_fail + std::chrono::milliseconds(int64_t(f_.o.retry_seconds * 1000));
        from = p.name();
        reason = r.describe();
      }
      if (Clock::now() >= deadline) {
        fatal = "retries exhausted after " + std::to_string(f_.o.retry_seconds) +
                " s (last: " + r.describe() + ")";
        exit_code = kIoFailed;
        return false;
      }
      // A path failure or an ALUA change: the states are read again on the live paths and
      // the best one continues; a plain unit attention or BUSY retries where it was.
      if (r.kind == Result::kPath || path_changed(r)) {
        if (!select(deadline)) {
          current_ = -1;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retry backoff
        }
      } else if (r.kind == Result::kOther) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  int exit_code = kOk;

 private:
  Path& path(size_t k) { return f_.paths[members_[k]]; }
  Fabric& f_;
  std::string id_;
  std::vector<size_t> members_;
  std::vector<LuInfo> lu_;
  int current_ = -1;
  int last_good_ = -1;  // the path of the last acknowledged I/O
  Clock::time_point last_select_{};
};

// ---------------------------------------------------------------------------------------
// The pattern: each block holds its LBA, the seed and the generation, and bytes derived
// from the three, so a block written elsewhere, earlier or by someone else is detected.

void fill(Bytes& b, uint32_t bs, uint64_t lba, uint64_t seed, uint64_t gen) {
  b.assign(bs, 0);
  memcpy(b.data(), "DSPHOST1", 8);
  for (int i = 0; i < 8; ++i) {
    b[8 + i] = uint8_t(lba >> (8 * i));
    b[16 + i] = uint8_t(seed >> (8 * i));
    b[24 + i] = uint8_t(gen >> (8 * i));
  }
  uint64_t x = (lba * 0x9e3779b97f4a7c15ULL) ^ (seed * 0xc2b2ae3d27d4eb4fULL) ^ (gen + 1);
  for (uint32_t i = 32; i < bs; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b[i] = uint8_t(x);
  }
}

std::string describe_block(const Bytes& b) {
  if (b.size() < 32 || memcmp(b.data(), "DSPHOST1", 8) != 0) return "no pattern header";
  uint64_t v[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 8; ++i) v[k] |= uint64_t(b[8 + 8 * k + i]) << (8 * i);
  char s[128];
  snprintf(s, sizeof s, "header lba %" PRIu64 " seed %" PRIu64 " generation %" PRIu64, v[0], v[1],
           v[2]);
  return s;
}

// ---------------------------------------------------------------------------------------
// Commands.

int cmd_ls(const Options& o, Fabric& f) {
  nlohmann::json j;
  j["paths"] = nlohmann::json::array();
  std::map<std::string, std::vector<std::string>> by_id;
  for (auto& p : f.paths) {
    nlohmann::json pj{{"portal", p.portal}, {"target", p.target}, {"up", p.alive()}};
    if (!p.alive()) pj["error"] = p.error;
    pj["luns"] = nlohmann::json::array();
    for (auto& lu : p.lus) {
      int st = p.alive() ? path_state(p, lu) : kUnknown;
      nlohmann::json lj{{"lun", lu.lun},
                        {"id", lu.id},
                        {"blocks", lu.blocks},
                        {"block_size", lu.block_size},
                        {"capacity_bytes", lu.blocks * lu.block_size},
                        {"alua", lu.alua},
                        {"rtpg", p.rtpg_supported},
                        {"tpg", lu.tpg},
                        {"relative_port", lu.rel_port},
                        {"designators", lu.designators},
                        {"state", alua_name(st)}};
      pj["luns"].push_back(lj);
      by_id[lu.id].push_back(p.portal);
    }
    j["paths"].push_back(pj);
  }
  j["lus"] = nlohmann::json::object();
  for (auto& [id, portals] : by_id)
    j["lus"][id] = {{"paths", portals.size()}, {"portals", portals}};
  j["errors"] = nlohmann::json::array();
  for (auto& [portal, err] : f.portal_errors)
    j["errors"].push_back({{"portal", portal}, {"error", err}});
  if (o.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    for (auto& p : j["paths"]) {
      std::cout << p["portal"].get<std::string>() << "  " << p["target"].get<std::string>()
                << (p["up"].get<bool>() ? "" : "  DOWN: " + p["error"].get<std::string>()) << "\n";
      for (auto& l : p["luns"]) {
        char line[512];
        snprintf(line, sizeof line, "  LUN %-3d %-40s %10.1f MiB  tpg %-3d %s%s\n",
                 l["lun"].get<int>(), l["id"].get<std::string>().c_str(),
                 double(l["capacity_bytes"].get<uint64_t>()) / 1048576.0, l["tpg"].get<int>(),
                 l["state"].get<std::string>().c_str(),
                 l["rtpg"].get<bool>() ? "" : " (no ALUA: optimized unless it fails)");
        std::cout << line;
      }
    }
    for (auto& e : j["errors"])
      std::cout << "error: " << e["portal"].get<std::string>() << ": "
                << e["error"].get<std::string>() << "\n";
  }
  if (!f.portal_errors.empty()) return kNoPortal;
  return kOk;
}

struct RecordEntry {
  uint64_t gen = 0;        // last acknowledged generation (0: none)
  uint64_t uncertain = 0;  // a later write that was sent but never acknowledged
};

int cmd_write(const Options& o, Multipath& mp) {
  Bytes b;
  uint64_t n = std::min(o.blocks, mp.blocks());
  for (uint64_t lba = 0; lba < n; ++lba) {
    fill(b, mp.block_size(), lba, o.seed, o.generation);
    if (!mp.io(true, lba, b)) {
      fprintf(stderr, "iscsi-host: %s\n", mp.fatal.c_str());
      return mp.exit_code;
    }
  }
  printf("wrote %" PRIu64 " blocks of %u bytes (seed %" PRIu64 ", generation %" PRIu64
         ") through %s\n",
         n, mp.block_size(), o.seed, o.generation, mp.current_name().c_str());
  return kOk;
}

int verify_blocks(Multipath& mp, uint64_t seed, const std::map<uint64_t, RecordEntry>& want,
                  bool json) {
  Bytes got, expect, alt;
  uint64_t bad = 0, checked = 0;
  nlohmann::json mism = nlohmann::json::array();
  for (auto& [lba, e] : want) {
    if (!mp.io(false, lba, got)) {
      fprintf(stderr, "iscsi-host: %s\n", mp.fatal.c_str());
      return mp.exit_code;
    }
    ++checked;
    fill(expect, mp.block_size(), lba, seed, e.gen);
    bool ok = got == expect;
    if (!ok && e.uncertain) {
      fill(alt, mp.block_size(), lba, seed, e.uncertain);
      ok = got == alt;
    }
    if (!ok) {
      ++bad;
      std::string what = describe_block(got);
      if (mism.size() < 20)
        mism.push_back({{"lba", lba}, {"expected_generation", e.gen}, {"found", what}});
      if (!json && bad <= 20)
        printf("MISMATCH lba %" PRIu64 ": expected generation %" PRIu64 ", found %s\n", lba, e.gen,
               what.c_str());
    }
  }
  if (json)
    std::cout << nlohmann::json{{"checked", checked},
                                {"mismatches", bad},
                                {"first_mismatches", mism}}
                     .dump()
              << "\n";
  else
    printf("verified %" PRIu64 " blocks, %" PRIu64 " mismatches\n", checked, bad);
  return bad ? kMismatch : kOk;
}

int cmd_verify(const Options& o, Multipath& mp) {
  std::map<uint64_t, RecordEntry> want;
  uint64_t seed = o.seed;
  if (!o.record.empty()) {
    std::ifstream in(o.record);
    if (!in) {
      fprintf(stderr, "iscsi-host: cannot read %s\n", o.record.c_str());
      return kLocalError;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line[0] == '#') {
        auto k = line.find("seed=");
        if (k != std::string::npos) seed = std::stoull(line.substr(k + 5));
        continue;
      }
      std::istringstream ls(line);
      uint64_t lba, gen;
      std::string flag;
      if (!(ls >> lba >> gen)) continue;
      ls >> flag;
      auto& e = want[lba];
      if (flag == "?")
        e.uncertain = gen;
      else
        e.gen = gen, e.uncertain = 0;
    }
    // A block whose only write was never acknowledged holds old data: not checked.
    for (auto it = want.begin(); it != want.end();)
      it = it->second.gen == 0 ? want.erase(it) : std::next(it);
  } else {
    for (uint64_t lba = 0; lba < std::min(o.blocks, mp.blocks()); ++lba)
      want[lba].gen = o.generation;
  }
  return verify_blocks(mp, seed, want, o.json);
}

int cmd_run(const Options& o, Multipath& mp) {
  std::ofstream rec(o.record, std::ios::trunc);
  if (!rec) {
    fprintf(stderr, "iscsi-host: cannot write %s\n", o.record.c_str());
    return kLocalError;
  }
  uint64_t n = std::max<uint64_t>(1, std::min(o.blocks, mp.blocks()));
  rec << "# iscsi-host record lun=" << o.lun_id << " seed=" << o.seed
      << " block_size=" << mp.block_size() << "\n";
  auto start = Clock::now();
  auto end = start + std::chrono::milliseconds(int64_t(o.seconds * 1000));
  uint64_t acked = 0;
  int rc = kOk;
  std::string first_path = mp.current_name();
  Bytes b;
  for (uint64_t i = 0; i < o.max_writes && Clock::now() < end; ++i) {
    uint64_t lba = i % n, gen = o.generation + i / n;
    fill(b, mp.block_size(), lba, o.seed, gen);
    if (!mp.io(true, lba, b)) {
      rec << lba << " " << gen << " ?\n";  // sent, never acknowledged: may or may not be there
      fprintf(stderr, "iscsi-host: %s\n", mp.fatal.c_str());
      rc = mp.exit_code;
      break;
    }
    rec << lba << " " << gen << "\n";
    ++acked;
  }
  rec.flush();
  if (!rec) rc = rc ? rc : kLocalError;
  nlohmann::json stalls = nlohmann::json::array();
  for (auto& s : mp.stalls) stalls.push_back(std::round(s.ms * 10) / 10);
  nlohmann::json sum{{"writes_acknowledged", acked},
                     {"seconds", ms_since(start) / 1000.0},
                     {"stalls_ms", stalls},
                     {"path_switches", mp.switches},
                     {"first_path", first_path},
                     {"last_path", mp.current_name()},
                     {"exit_code", rc}};
  if (!mp.fatal.empty()) sum["error"] = mp.fatal;
  std::cout << sum.dump() << "\n";
  return rc;
}

void usage(FILE* f) {
  fputs(
      "usage: iscsi-host --initiator IQN --portal ADDR[:PORT] [--portal ...] [options] COMMAND\n"
      "commands:\n"
      "  ls                                      every path, its LUs, their ALUA state\n"
      "  write  --lun-id ID [--pattern SEED] [--blocks N] [--generation G]\n"
      "  verify --lun-id ID [--pattern SEED] [--blocks N] [--generation G] | --record FILE\n"
      "  run    --lun-id ID --record FILE [--seconds S] [--max-writes N] [--blocks N]\n"
      "options: --json  --timeout S (every operation, default 5)\n"
      "         --retry-seconds S (failover budget of one I/O, default 30)\n"
      "exit codes: 0 ok, 1 mismatch, 2 usage, 3 portal/login failed, 4 LU not found,\n"
      "            5 no usable path (retries exhausted), 6 SCSI error, 7 record file\n",
      f);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto val = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--initiator")
        o.initiator = val();
      else if (a == "--portal")
        o.portals.push_back(val());
      else if (a == "--lun-id")
        o.lun_id = val();
      else if (a == "--pattern")
        o.seed = std::stoull(val());
      else if (a == "--blocks")
        o.blocks = std::stoull(val());
      else if (a == "--generation")
        o.generation = std::stoull(val());
      else if (a == "--seconds")
        o.seconds = std::stod(val());
      else if (a == "--max-writes")
        o.max_writes = std::stoull(val());
      else if (a == "--retry-seconds")
        o.retry_seconds = std::stod(val());
      else if (a == "--timeout")
        o.timeout = std::stod(val());
      else if (a == "--record")
        o.record = val();
      else if (a == "--json")
        o.json = true;
      else if (a == "-h" || a == "--help") {
        usage(stdout);
        return kOk;
      } else if (a.rfind("--", 0) == 0)
        throw std::invalid_argument("unknown option " + a);
      else if (o.command.empty())
        o.command = a;
      else
        throw std::invalid_argument("unexpected " + a);
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "iscsi-host: %s\n", e.what());
    usage(stderr);
    return kUsage;
  }
  bool known =
      o.command == "ls" || o.command == "write" || o.command == "verify" || o.command == "run";
  if (!known || o.initiator.empty() || o.portals.empty() || o.timeout < 0.1 ||
      (o.command != "ls" && o.lun_id.empty()) || (o.command == "run" && o.record.empty()) ||
      o.generation < 1) {
    usage(stderr);
    return kUsage;
  }
  g_timeout = o.timeout;
  setvbuf(stdout, nullptr, _IOLBF, 0);

  Fabric f(o);
  f.connect_all();
  if (o.command == "ls") return cmd_ls(o, f);
  bool any = std::any_of(f.paths.begin(), f.paths.end(), [](auto& p) { return p.alive(); });
  if (!any) {
    for (auto& [portal, err] : f.portal_errors)
      fprintf(stderr, "iscsi-host: %s: %s\n", portal.c_str(), err.c_str());
    return kNoPortal;
  }
  Multipath mp(f, o.lun_id);
  if (!mp.found()) {
    fprintf(stderr, "iscsi-host: no path sees LU %s\n", o.lun_id.c_str());
    return kNoLun;
  }
  if (!mp.select(Clock::now() + timeout_ms())) {
    fprintf(stderr, "iscsi-host: no usable path to %s\n", o.lun_id.c_str());
    return kIoFailed;
  }
  if (o.command == "write") return cmd_write(o, mp);
  if (o.command == "verify") return cmd_verify(o, mp);
  return cmd_run(o, mp);
}
