// Name-based UUIDs: RFC 9562 version 5 in DualSP's namespace. The expected values were computed
// independently with Python's uuid.uuid5(uuid.UUID(kUuidNamespace), name).
#include "webserver/redfish_format.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using dualsp::SpId;
using dualsp::web::managerUuid;
using dualsp::web::nameBasedUuid;
using dualsp::web::serviceRootUuid;

TEST_GROUP(NameBasedUuid){};

TEST(NameBasedUuid, MatchesPythonsUuid5InTheDualSpNamespace) {
  STRCMP_EQUAL("c3b6d15f-a140-50cc-a4cb-30cbe77eca26", nameBasedUuid("").c_str());
  STRCMP_EQUAL("bc46e307-dfef-59f6-99e8-18cd207cb252", nameBasedUuid("a").c_str());
  STRCMP_EQUAL("a94dcdfc-f16e-59cf-b819-1e4087115e26",
               nameBasedUuid("some much longer name with many bytes 0123456789").c_str());
}

TEST(NameBasedUuid, ServiceRootAndManagersAreNamedAfterTheArray) {
  STRCMP_EQUAL("7a633bb0-af81-5853-8f3f-584300d91093", serviceRootUuid("array-1").c_str());
  STRCMP_EQUAL("35e830a9-7d57-5468-abb9-5c6639f69297", managerUuid("array-1", SpId::A).c_str());
  CHECK(managerUuid("array-1", SpId::A) != managerUuid("array-1", SpId::B));
  CHECK(serviceRootUuid("array-1") != serviceRootUuid("array-2"));
}

TEST(NameBasedUuid, CarriesVersion5AndTheRfcVariant) {
  for (const char* name : {"", "a", "dualsp/service-root/dualsp", "x/y/z"}) {
    const std::string uuid = nameBasedUuid(name);
    LONGS_EQUAL(36, uuid.size());
    CHECK_EQUAL('5', uuid[14]);     // the version nibble (RFC 9562 4.2)
    const char variant = uuid[19];  // the variant's two high bits are 10 (RFC 9562 4.1)
    CHECK(variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
  }
}
