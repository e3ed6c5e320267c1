# CMake toolchain file: DualSP firmware for amd64 (x86_64-linux-gnu), driven by Makefile.cross.
# The host's own compiler, but target libraries only from the build-tree sysroot, as for the
# ARM boards: the same static build, for x86 boards and for measuring it on the build host
# (tools/bench/footprint --firmware).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_LIBRARY_ARCHITECTURE x86_64-linux-gnu)
set(CMAKE_C_COMPILER x86_64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER x86_64-linux-gnu-g++)
set(CMAKE_STRIP x86_64-linux-gnu-strip)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
