# CMake toolchain file: DualSP firmware for arm64 (aarch64-linux-gnu), driven by Makefile.cross.
# Debian's cross compiler; target libraries only from the build-tree sysroot that
# Makefile.cross assembles from Debian's arm64 packages (DUALSP_SYSROOT), never the host's.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_STRIP aarch64-linux-gnu-strip)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
