#include "sp/config_merge.hpp"

#include <algorithm>

#include "ipc/sp_id_proto.hpp"
#include "platform/log.hpp"
#include "platform/text.hpp"
#include "sp/events.hpp"

namespace dualsp::sp {
namespace {

std::string shortValue(const ConfigRecord& r) {
  if (r.deleted()) return "(removed)";
  // Cut where a character ends: half a character would make the conflict event invalid UTF-8.
  if (r.value().size() > 80) return text::shortened(r.value(), 77);
  return r.value();
}

// The merge's deterministic order of two writes of one key: the newer version wins; two
// equal versions (each SP stamped its own seq) go to SP-A.
bool newerWrite(const ConfigRecord& a, const ConfigRecord& b) {
  if (versionOf(a) != versionOf(b)) return versionOf(b) < versionOf(a);
  return a.writer() == proto::SP_A && b.writer() != proto::SP_A;
}

bool sameContent(const ConfigRecord& a, const ConfigRecord& b) {
  return a.deleted() == b.deleted() && (a.deleted() || a.value() == b.value());
}

std::string writerName(const ConfigRecord& x) {
  return std::string("SP-") + (x.writer() == proto::SP_B ? "B" : "A");
}

}  // namespace

void ConfigMerge::selectDivergent(const proto::SyncOffer& offer, Version common, bool everything,
                                  MergeOutcome& out) const {
  for (const auto& r : offer.divergent()) {
    if (!everything && !(common < versionOf(r))) continue;
    auto mine = core_.store.find(r.key());
    if (mine && versionOf(*mine) == versionOf(r) && sameContent(*mine, r)) continue;  // shared
    if (r.writer() == ipc::toProto(core_.deps.self) && core_.store.last() < versionOf(r) &&
        !everything) {
      // Stamped by this SP but never committed here: a change whose confirmation was lost
      // (answered as not confirmed). The full copy that follows drops it there.
      ++out.dropped;
      continue;
    }
    out.divergent.push_back(r);
  }
  std::sort(
      out.divergent.begin(), out.divergent.end(),
      [](const ConfigRecord& a, const ConfigRecord& b) { return versionOf(a) < versionOf(b); });
}

MergeOutcome ConfigMerge::merge(const proto::SyncOffer& offer, Version common,
                                bool everything) const {
  MergeOutcome out;
  selectDivergent(offer, common, everything, out);
  out.next = core_.nextVersion(core_.store.last());
  out.next_event_id = core_.nextEventId();
  // Each of the peer's changes is taken unless this SP changed the same object since the
  // common point; then the newer version wins and the loser is reported, never dropped
  // silently.
  for (const auto& r : out.divergent) {
    if (isEventKey(r.key()))
      mergeEvent(r, out);
    else
      mergeRecord(r, common, everything, out);
  }
  return out;
}

void ConfigMerge::appendEvent(MergeOutcome& out, proto::Event event) const {
  out.merged.push_back(core_.eventRecord(std::move(event), out.next, out.next_event_id++));
  ++out.next.seq;
}

void ConfigMerge::take(ConfigRecord r, MergeOutcome& out) const {
  *r.mutable_version() = toProtoVersion(out.next);
  r.set_writer(ipc::toProto(core_.deps.self));
  out.merged.push_back(std::move(r));
  ++out.next.seq;
  ++out.taken;
}

void ConfigMerge::mergeEvent(const ConfigRecord& r, MergeOutcome& out) const {
  if (r.deleted()) return;
  proto::Event event;
  if (!event.ParseFromString(r.value())) return;
  const uint64_t id = eventIdOf(r.key());
  const bool free = !core_.store.find(r.key()) && id < out.next_event_id &&
                    std::none_of(out.merged.begin(), out.merged.end(),
                                 [&](const ConfigRecord& m) { return m.key() == r.key(); });
  if (free) {
    // A client may have seen it under this id (the peer acknowledged it alone, this SP took
    // over knowing how far the peer's history reached): kept as it was, marked as restored.
    event.set_restored(true);
    out.merged.push_back(core_.eventRecord(std::move(event), out.next, id));
    ++out.next.seq;
    ++out.restored;
    return;
  }
  const std::string peer_name = core_.peerName();
  event.set_message(event.message() + " (recorded by " + peer_name +
                    " while the peers were apart, event " + std::to_string(id) +
                    " there; restored from " + peer_name + ")");
  appendEvent(out, std::move(event));
  ++out.events;
}

void ConfigMerge::mergeRecord(const ConfigRecord& r, Version common, bool everything,
                              MergeOutcome& out) const {
  auto mine = core_.store.find(r.key());
  if (mine && sameContent(*mine, r)) return;
  if (everything) {
    // Recovering lost data from the peer: its copy fills what is missing or older here.
    if (!mine || versionOf(*mine) < versionOf(r)) take(r, out);
    return;
  }
  if (mine && common < versionOf(*mine)) {  // changed here too since the common point
    bool theirs = newerWrite(r, *mine);
    std::string detail =
        "Both SPs changed '" + r.key() + "' while they were apart: " + writerName(*mine) +
        " wrote '" + shortValue(*mine) + "' (version " + toString(versionOf(*mine)) + "), " +
        writerName(r) + " wrote '" + shortValue(r) + "' (version " + toString(versionOf(r)) +
        "); kept the newer, " + (theirs ? writerName(r) : writerName(*mine)) + "'s.";
    LOG_WARNING << "configuration conflict: " << detail;
    appendEvent(out, makeEvent(message::kErrorsDetected, {r.key(), "MergeConflict"},
                               managerUri(core_.deps.self), "Warning", core_.deps.self, detail));
    ++out.conflicts;
    if (!theirs) return;
  }
  take(r, out);
}

}  // namespace dualsp::sp
