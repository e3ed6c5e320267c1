// Checks of the enclosure's settable properties (chassis_location.hpp).

#include "webserver/routes/chassis_location.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "webserver/config_access.hpp"
#include "webserver/redfish_messages.hpp"

namespace dualsp::web {
namespace {

constexpr std::string_view kAssetTagProperty = "AssetTag";
constexpr std::string_view kLocationProperty = "Location";
// Chassis_v1.xml sets no limit; 64 characters fit every asset-tag label and the event log.
constexpr size_t kMaxAssetTagLength = 64;

// Resource_v1.xml PostalAddress, without the deprecated Location and GPSCoords. HouseNumber
// is an Edm.Int64; the others are strings.
constexpr std::array<std::string_view, 30> kPostalAddressMembers{
    "Country",
    "Territory",
    "District",
    "City",
    "Division",
    "Neighborhood",
    "LeadingStreetDirection",
    "Street",
    "TrailingStreetSuffix",
    "StreetSuffix",
    "HouseNumber",
    "HouseNumberSuffix",
    "Landmark",
    "Floor",
    "Name",
    "PostalCode",
    "Building",
    "Unit",
    "Room",
    "Seat",
    "PlaceType",
    "Community",
    "POBox",
    "AdditionalCode",
    "Road",
    "RoadSection",
    "RoadBranch",
    "RoadSubBranch",
    "RoadPreModifier",
    "RoadPostModifier",
};
constexpr std::string_view kHouseNumberMember = "HouseNumber";
// Resource_v1.xml RackUnits.
constexpr std::array<std::string_view, 2> kRackUnits{"OpenU", "EIA_310"};

// "Location/Placement/Rack": a property below the resource, as the errors name it.
std::string pointer(std::string_view parent, std::string_view member) {
  return std::string(parent) + "/" + std::string(member);
}

// Resource.PostalAddress: the schema's members, strings but HouseNumber (an integer).
bool postalAddressAccepted(const Json& value, std::string_view name, Response& res) {
  if (!value.is_object()) {
    messages::propertyValueTypeError(res, valueText(value), name);
    return false;
  }
  for (const auto& [key, member] : value.items()) {
    const std::string path = pointer(name, key);
    if (std::find(kPostalAddressMembers.begin(), kPostalAddressMembers.end(), key) ==
        kPostalAddressMembers.end()) {
      messages::propertyUnknown(res, path);
      return false;
    }
    const bool typed = key == kHouseNumberMember ? member.is_number_integer() : member.is_string();
    if (!typed) {
      messages::propertyValueTypeError(res, valueText(member), path);
      return false;
    }
  }
  return true;
}

// Resource.Placement: Row and Rack strings, RackOffset a non-negative integer, RackOffsetUnits
// one of Resource.RackUnits.
bool placementAccepted(const Json& value, std::string_view name, Response& res) {
  if (!value.is_object()) {
    messages::propertyValueTypeError(res, valueText(value), name);
    return false;
  }
  for (const auto& [key, member] : value.items()) {
    const std::string path = pointer(name, key);
    if (key == "Row" || key == "Rack") {
      if (!member.is_string()) {
        messages::propertyValueTypeError(res, valueText(member), path);
        return false;
      }
    } else if (key == "RackOffset") {
      if (!member.is_number_integer()) {
        messages::propertyValueTypeError(res, valueText(member), path);
        return false;
      }
      if (member.get<int64_t>() < 0) {
        messages::propertyValueOutOfRange(res, valueText(member), path);
        return false;
      }
    } else if (key == "RackOffsetUnits") {
      if (!member.is_string()) {
        messages::propertyValueTypeError(res, valueText(member), path);
        return false;
      }
      if (std::find(kRackUnits.begin(), kRackUnits.end(), member.get<std::string>()) ==
          kRackUnits.end()) {
        messages::propertyValueNotInList(res, member.get<std::string>(), path);
        return false;
      }
    } else {
      messages::propertyUnknown(res, path);
      return false;
    }
  }
  return true;
}

}  // namespace

// Resource.Location, of which DualSP keeps PostalAddress and Placement.
bool locationAccepted(const Json& value, Response& res) {
  if (!value.is_object()) {
    messages::propertyValueTypeError(res, valueText(value), kLocationProperty);
    return false;
  }
  for (const auto& [key, member] : value.items()) {
    const std::string path = pointer(kLocationProperty, key);
    if (key == "PostalAddress") {
      if (!postalAddressAccepted(member, path, res)) return false;
    } else if (key == "Placement") {
      if (!placementAccepted(member, path, res)) return false;
    } else {
      messages::propertyUnknown(res, path);
      return false;
    }
  }
  return true;
}

bool assetTagAccepted(const Json& value, Response& res) {
  if (!value.is_string()) {
    messages::propertyValueTypeError(res, valueText(value), kAssetTagProperty);
    return false;
  }
  if (value.get<std::string>().size() > kMaxAssetTagLength) {
    messages::stringValueTooLong(res, value.get<std::string>(), kMaxAssetTagLength);
    return false;
  }
  return true;
}

}  // namespace dualsp::web
