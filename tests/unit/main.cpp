#include <CppUTest/CommandLineTestRunner.h>
#include <CppUTest/MemoryLeakWarningPlugin.h>

int main(int argc, char** argv) {
  // Function-local statics (protobuf, Asio, JSON defaults) are allocated once inside the
  // first test that touches them; the per-test leak check would report them. Leaks are
  // looked for with valgrind/LeakSanitizer instead.
  MemoryLeakWarningPlugin::turnOffNewDeleteOverloads();
  return CommandLineTestRunner::RunAllTests(argc, argv);
}
