#include "ipc/status_board.hpp"

#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "platform/log.hpp"
#include "platform/private_shm.hpp"

namespace bip = boost::interprocess;

namespace dualsp::ipc {
namespace {

static_assert(std::is_trivially_copyable_v<StatusSnapshot>);

constexpr uint64_t kMagic = 0x445350424f415244ULL;  // "DSPBOARD"

struct Segment {
  uint64_t magic;
  std::atomic<uint64_t> sequence;  // odd while the writer is copying
  StatusSnapshot snapshot;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free);

platform::ShmTrust boardTrust(const std::optional<platform::UnixIdentity>& web) {
  return platform::ShmTrust{.web = web, .web_group_mode = platform::kWebReadMode};
}

}  // namespace

std::string statusBoardName(const std::string& array_id, SpId sp) {
  return "dualsp-" + array_id + "-sp" + std::string(1, spLetter(sp) + ('a' - 'A')) + "-status";
}

struct StatusBoardWriter::Impl {
  bip::shared_memory_object shm;
  bip::mapped_region region;
  Segment* segment = nullptr;
};

StatusBoardWriter::StatusBoardWriter(std::string name, std::optional<platform::UnixIdentity> web)
    : name_(std::move(name)) {
  impl_ = std::make_unique<Impl>();
  try {
    impl_->shm = platform::openPrivateShm(name_, boardTrust(web));
    impl_->shm.truncate(sizeof(Segment));
    impl_->region = bip::mapped_region(impl_->shm, bip::read_write);
  } catch (const bip::interprocess_exception& e) {
    throw std::runtime_error("status board " + name_ + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("status board " + name_ + ": " + e.what());
  }
  void* at = impl_->region.get_address();
  std::memset(at, 0, sizeof(Segment));
  impl_->segment = new (at) Segment{};
  impl_->segment->magic = kMagic;
}

StatusBoardWriter::~StatusBoardWriter() {
  // A clean stop leaves nothing behind; after a crash the next spd reuses the segment.
  // Readers still mapping the old one see the magic gone and reopen.
  impl_->segment->magic = 0;
  bip::shared_memory_object::remove(name_.c_str());
}

void StatusBoardWriter::publish(const StatusSnapshot& snapshot) {
  Segment* s = impl_->segment;
  uint64_t seq = s->sequence.load(std::memory_order_relaxed);
  s->sequence.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(static_cast<void*>(&s->snapshot), &snapshot, sizeof snapshot);
  std::atomic_thread_fence(std::memory_order_release);
  s->sequence.store(seq + 2, std::memory_order_release);
}

struct StatusBoardReader::Impl {
  bip::shared_memory_object shm;
  bip::mapped_region region;
  const Segment* segment = nullptr;
  platform::ShmTrust trust;
  std::string refused;  // why the segment under the name was last refused (logged once)
};

StatusBoardReader::StatusBoardReader(std::string name, std::optional<platform::UnixIdentity> web)
    : name_(std::move(name)), impl_(std::make_unique<Impl>()) {
  impl_->trust = boardTrust(web);
}

StatusBoardReader::~StatusBoardReader() = default;

std::optional<StatusSnapshot> StatusBoardReader::read() {
  // Reopen every time we would fail: spd may have been restarted and recreated the segment.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->segment) {
      try {
        impl_->shm = bip::shared_memory_object(bip::open_only, name_.c_str(), bip::read_only);
        // A board someone else made is not spd's word: refuse it (checked on the open
        // descriptor, so the name cannot be swapped after the check).
        if (std::string why =
                platform::untrustedShmReason(impl_->shm.get_mapping_handle().handle, impl_->trust);
            !why.empty()) {
          if (why != impl_->refused)
            LOG_ERROR << "status board /dev/shm/" << name_ << " refused: " << why;
          impl_->refused = why;
          impl_->shm = bip::shared_memory_object();
          return std::nullopt;
        }
        impl_->refused.clear();
        bip::offset_t size = 0;
        if (!impl_->shm.get_size(size) || size < static_cast<bip::offset_t>(sizeof(Segment)))
          return std::nullopt;
        impl_->region = bip::mapped_region(impl_->shm, bip::read_only);
        impl_->segment = static_cast<const Segment*>(impl_->region.get_address());
      } catch (const bip::interprocess_exception&) {
        return std::nullopt;
      }
    }
    const Segment* s = impl_->segment;
    if (s->magic != kMagic) {
      impl_->segment = nullptr;  // spd stopped: look for a new segment
      continue;
    }
    for (int spin = 0; spin < 1000; ++spin) {
      uint64_t before = s->sequence.load(std::memory_order_acquire);
      if (before & 1) continue;
      StatusSnapshot out;
      std::memcpy(static_cast<void*>(&out), &s->snapshot, sizeof out);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s->sequence.load(std::memory_order_relaxed) != before) continue;
      if (before == 0) return std::nullopt;  // never published
      return out;
    }
    impl_->segment = nullptr;  // a writer stuck mid-copy: reopen and try once more
  }
  return std::nullopt;
}

}  // namespace dualsp::ipc
