#include "tools/spctl/table.hpp"

#include <CppUTest/TestHarness.h>

using namespace dualsp::spctl;

TEST_GROUP(Table){};

TEST(Table, ColumnsAlignUnderTheirHeaders) {
  Table t({"SP", "ROLE", "FAULTS"});
  t.add({"SPA", "active", "none"});
  t.add({"SPB", "passive", "fan 2 stopped"});
  STRCMP_EQUAL(
      "SP   ROLE     FAULTS\n"
      "SPA  active   none\n"
      "SPB  passive  fan 2 stopped\n",
      t.render().c_str());
}

TEST(Table, WideCharactersCountOnceAndNoLineEndsInSpaces) {
  Table t({"A", "B"});
  t.add({"\xc3\xa9t\xc3\xa9", ""});
  STRCMP_EQUAL("A    B\n\xc3\xa9t\xc3\xa9\n", t.render().c_str());
}
