#pragma once
// The array's management network settings (record "network/management", changed over
// Redfish PATCH of Managers/{id}/EthernetInterfaces/Floating) and the floating address
// that follows them: a change moves the address on the active SP at once, and the passive
// SP takes the new address over on failover.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "platform/platform.hpp"

namespace dualsp::sp {

struct ManagementNetwork {
  std::string address;  // "198.18.0.10"
  int prefix_length = 24;
  std::string gateway;  // "" = none
  bool operator==(const ManagementNetwork&) const = default;
};

// "255.255.255.0" -> 24; nullopt unless a contiguous mask.
std::optional<int> prefixOfMask(const std::string& mask);
std::string maskOfPrefix(int prefix_length);
// The record's JSON {"Address", "SubnetMask", "Gateway"}; error names what is wrong.
std::optional<ManagementNetwork> parseManagementNetwork(const std::string& json,
                                                        std::string& error);
std::string managementNetworkJson(const ManagementNetwork& n);

// A floating address whose address can change while the SP runs (the heartbeat service
// holds a reference to it for its whole life).
class RetargetableFloatingAddress final : public platform::FloatingAddress {
 public:
  explicit RetargetableFloatingAddress(std::unique_ptr<platform::FloatingAddress> inner);
  platform::Status add() override;
  platform::Status remove() override;
  bool held() override;
  platform::Status announce() override;
  std::string describe() const override;
  // Releases the old address if this SP holds it, then adds and announces the new one.
  platform::Status retarget(std::unique_ptr<platform::FloatingAddress> next);

 private:
  mutable std::mutex mu_;
  std::unique_ptr<platform::FloatingAddress> inner_;
};

}  // namespace dualsp::sp
