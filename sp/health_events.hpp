#pragma once
// What follows from a change of this SP's health (sp/health_monitor.hpp): the log lines, the
// array events, the faults on the status board and the web server's mode. Pure except for
// logHealthChange(), which writes to spd.log.

#include <string>
#include <vector>

#include "ipc/status_board.hpp"
#include "proto/config.pb.h"
#include "sp/health_monitor.hpp"

namespace dualsp::sp {

// The web server's mode: "degraded" when the SP is Critical, else "full".
std::string modeFor(const HealthReport& r);

// The faults as the status board carries them (text cut to the board's field).
std::vector<ipc::SnapshotFault> snapshotFaults(const HealthReport& r);

// One line per fault raised or cleared, then the new roll-up.
void logHealthChange(const HealthReport& before, const HealthReport& after);

// One event per fault raised or cleared and one when the roll-up changes, in that order.
std::vector<proto::Event> healthEvents(SpId self, const HealthReport& before,
                                       const HealthReport& after);

// At start-up: one event per fault the SP already has.
std::vector<proto::Event> startupFaultEvents(SpId self, const HealthReport& health);

}  // namespace dualsp::sp
