// The generated registries (platform/redfish/generated/, tools/gen-redfish) are consistent: every
// message's text has exactly the placeholders %1..%N of its NumberOfArgs, its id is its
// registry's id and key, and the enums convert to and from the schema's strings.
#include <set>
#include <string>
#include <string_view>

#include <CppUTest/TestHarness.h>

#include "platform/redfish/generated/registries/all.hpp"
#include "platform/redfish/generated/schema_enums.hpp"

using namespace dualsp::redfish;

namespace {

// The N of every %N in text.
std::set<int> placeholders(std::string_view text) {
  std::set<int> out;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '%' || text[i + 1] < '1' || text[i + 1] > '9') continue;
    int n = 0;
    size_t j = i + 1;
    for (; j < text.size() && text[j] >= '0' && text[j] <= '9'; ++j) n = n * 10 + (text[j] - '0');
    out.insert(n);
    i = j - 1;
  }
  return out;
}

}  // namespace

TEST_GROUP(GeneratedRegistries){};

TEST(GeneratedRegistries, EveryMessageHasThePlaceholdersOfItsArgCount) {
  size_t messages = 0;
  for (std::span<const MessageEntry> registry : registries::kAll) {
    for (const MessageEntry& e : registry) {
      std::set<int> expected;
      for (int n = 1; n <= e.number_of_args; ++n) expected.insert(n);
      if (placeholders(e.text) != expected) FAIL(std::string(e.id).c_str());
      CHECK(e.severity != resource::Health::Invalid);
      ++messages;
    }
  }
  CHECK(messages > 40);  // every registry of platform/redfish/selection.json, not an empty table
}

TEST(GeneratedRegistries, EveryIdIsItsRegistrysIdAndItsKey) {
  std::set<std::string_view> ids;
  for (std::span<const MessageEntry> registry : registries::kAll) {
    for (const MessageEntry& e : registry) {
      const std::string_view registry_id = e.id.substr(0, e.id.size() - e.key.size() - 1);
      STRCMP_EQUAL((std::string(registry_id) + "." + std::string(e.key)).c_str(),
                   std::string(e.id).c_str());
      CHECK(ids.insert(e.id).second);  // unique
      CHECK(registries::find(e.id) == &e);
    }
  }
  CHECK(registries::find("Base.1.22.1.NoSuchMessage") == nullptr);
}

TEST(GeneratedRegistries, TheBaseRegistryIsDmtfsText) {
  namespace base = registries::base;
  STRCMP_EQUAL("Base.1.22.1", std::string(base::kRegistry.id).c_str());
  STRCMP_EQUAL("Base.1.22.1.ResourceNotFound", std::string(base::kResourceNotFound).c_str());
  const MessageEntry& e = base::entry(base::Message::ResourceNotFound);
  STRCMP_EQUAL("The requested resource of type %1 named '%2' was not found.",
               std::string(e.text).c_str());
  LONGS_EQUAL(2, e.number_of_args);
  CHECK(e.severity == resource::Health::Critical);
  STRCMP_EQUAL("Provide a valid resource identifier and resubmit the request.",
               std::string(e.resolution).c_str());
  // The table follows the enum: entry(m) is the entry of m.
  STRCMP_EQUAL("OperationTimeout",
               std::string(base::entry(base::Message::OperationTimeout).key).c_str());
}

TEST_GROUP(GeneratedEnums){};

TEST(GeneratedEnums, ConvertToAndFromTheSchemasStrings) {
  CHECK(nlohmann::json(resource::Health::Warning) == "Warning");
  CHECK(nlohmann::json(redundancy::RedundancyMode::NPlusm) == "N+m");
  CHECK(nlohmann::json("StandbySpare").get<resource::State>() == resource::State::StandbySpare);
  // Json maps a string the schema does not have to Invalid, which it writes as null.
  CHECK(nlohmann::json("Sideways").get<resource::State>() == resource::State::Invalid);
  CHECK(nlohmann::json(resource::State::Invalid).is_null());
}

TEST(GeneratedEnums, ParseIsAnExactMatch) {
  CHECK(resource::parseResetType("GracefulRestart") == resource::ResetType::GracefulRestart);
  CHECK(sensor::parseReadingType("Rotational") == sensor::ReadingType::Rotational);
  CHECK(!resource::parseHealth("ok").has_value());
  CHECK(!resource::parseHealth("Invalid").has_value());
  CHECK(!resource::parseHealth("").has_value());
}
