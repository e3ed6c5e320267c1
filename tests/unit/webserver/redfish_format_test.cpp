// Name-based UUIDs: FNV-1a 128 must give the same UUID on every architecture (armhf has no
// 128-bit integer). Expected values were computed with unsigned __int128 on x86_64.
#include "webserver/redfish_format.hpp"

#include <CppUTest/TestHarness.h>

using dualsp::web::nameBasedUuid;

TEST_GROUP(NameBasedUuid){};

TEST(NameBasedUuid, EmptyNameIsTheOffsetBasisWithVersionAndVariant) {
  STRCMP_EQUAL("6c62272e-07bb-8142-a2b8-21756295c58d", nameBasedUuid("").c_str());
}

TEST(NameBasedUuid, MatchesThe128BitIntegerComputation) {
  STRCMP_EQUAL("d228cb69-6f1a-8caf-b891-2b704e4a8964", nameBasedUuid("a").c_str());
  STRCMP_EQUAL("39082bac-73b0-8584-a5ee-301c7a3c0e1f", nameBasedUuid("dualsp:SP-A").c_str());
  STRCMP_EQUAL("4fa00c7d-b4f0-8825-9e3d-8badac92cd85",
               nameBasedUuid("some much longer name with many bytes 0123456789").c_str());
}
