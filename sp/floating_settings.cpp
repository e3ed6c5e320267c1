#include "sp/floating_settings.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

namespace dualsp::sp {
namespace {

std::optional<uint32_t> parseIpv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

}  // namespace

std::optional<int> prefixOfMask(const std::string& mask) {
  auto m = parseIpv4(mask);
  if (!m) return std::nullopt;
  uint32_t inverted = ~*m;
  if ((inverted & (inverted + 1)) != 0) return std::nullopt;  // not contiguous
  int prefix = 0;
  for (uint32_t v = *m; v & 0x80000000u; v <<= 1) ++prefix;
  return prefix;
}

std::string maskOfPrefix(int prefix_length) {
  uint32_t m = prefix_length <= 0 ? 0 : 0xffffffffu << (32 - prefix_length);
  in_addr a{htonl(m)};
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

std::optional<ManagementNetwork> parseManagementNetwork(const std::string& json,
                                                        std::string& error) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) {
    error = "network/management is not a JSON object";
    return std::nullopt;
  }
  ManagementNetwork n;
  auto text = [&](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  n.address = text("Address");
  auto address = parseIpv4(n.address);
  auto prefix = prefixOfMask(text("SubnetMask"));
  if (!address || !prefix || *prefix < 1 || *prefix > 32) {
    error = "network/management needs an IPv4 Address and a contiguous SubnetMask";
    return std::nullopt;
  }
  n.prefix_length = *prefix;
  n.gateway = text("Gateway");
  if (!n.gateway.empty() && !parseIpv4(n.gateway)) {
    error = "network/management Gateway '" + n.gateway + "' is not an IPv4 address";
    return std::nullopt;
  }
  return n;
}

std::string managementNetworkJson(const ManagementNetwork& n) {
  return nlohmann::json{
      {"Address", n.address}, {"SubnetMask", maskOfPrefix(n.prefix_length)}, {"Gateway", n.gateway}}
      .dump();
}

RetargetableFloatingAddress::RetargetableFloatingAddress(
    std::unique_ptr<platform::FloatingAddress> inner)
    : inner_(std::move(inner)) {}

platform::Status RetargetableFloatingAddress::add() {
  std::lock_guard lock(mu_);
  return inner_->add();
}

platform::Status RetargetableFloatingAddress::remove() {
  std::lock_guard lock(mu_);
  return inner_->remove();
}

bool RetargetableFloatingAddress::held() {
  std::lock_guard lock(mu_);
  return inner_->held();
}

platform::Status RetargetableFloatingAddress::announce() {
  std::lock_guard lock(mu_);
  return inner_->announce();
}

std::string RetargetableFloatingAddress::describe() const {
  std::lock_guard lock(mu_);
  return inner_->describe();
}

platform::Status RetargetableFloatingAddress::retarget(
    std::unique_ptr<platform::FloatingAddress> next) {
  std::lock_guard lock(mu_);
  bool was_held = inner_->held();
  if (was_held) {
    auto s = inner_->remove();
    if (!s.ok)
      return platform::Status::failure("cannot release " + inner_->describe() + ": " + s.error);
  }
  inner_ = std::move(next);
  if (!was_held) return platform::Status::success();
  auto s = inner_->add();
  if (!s.ok) return platform::Status::failure("cannot add " + inner_->describe() + ": " + s.error);
  return inner_->announce();
}

}  // namespace dualsp::sp
