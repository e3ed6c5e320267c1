# Shared by the per-architecture toolchain files.
# DUALSP_SYSROOT: Debian's target -dev packages unpacked (tools/firmware/debfetch), plus
# links to the host's architecture-independent header-only libraries (Boost).
if(NOT DUALSP_SYSROOT)
  set(DUALSP_SYSROOT "$ENV{DUALSP_SYSROOT}")
endif()
if(NOT DUALSP_SYSROOT)
  message(FATAL_ERROR "DUALSP_SYSROOT is not set: build the firmware with make -f Makefile.cross")
endif()
# Try-compile projects get the variable too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES DUALSP_SYSROOT)

set(CMAKE_FIND_ROOT_PATH ${DUALSP_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # protoc and friends run on the host
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The target packages' per-architecture headers live in the multiarch folder.
set(CMAKE_C_FLAGS_INIT "-isystem ${DUALSP_SYSROOT}/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
set(CMAKE_CXX_FLAGS_INIT "-isystem ${DUALSP_SYSROOT}/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}")
