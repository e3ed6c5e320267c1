# The chaos campaign (tests/chaos, docs/CHAOS.md), `ctest -L chaos`: the checks' unit tests,
# then two short runs with fixed seeds in the default namespaces, like the system tests (they
# share the one fixed topology: RESOURCE_LOCK dualsp-netns). About 2 minutes per run.
set(DUALSP_CHAOS_PYTHON /usr/bin/python3)
add_test(NAME chaos_checks
         COMMAND ${DUALSP_CHAOS_PYTHON} -m pytest -q -p no:cacheprovider
                 ${CMAKE_SOURCE_DIR}/tests/chaoslib/test_checks.py
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(chaos_checks PROPERTIES TIMEOUT 60 LABELS chaos
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
foreach(seed 1 2)
  add_test(NAME chaos_seed${seed}
           COMMAND ${DUALSP_CHAOS_PYTHON} ${CMAKE_SOURCE_DIR}/tests/chaos --minutes 1.5
                   --seed ${seed} --state /run/dualsp-pair-chaos
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(chaos_seed${seed} PROPERTIES
    TIMEOUT 200 RESOURCE_LOCK dualsp-netns LABELS chaos
    ENVIRONMENT "DUALSP_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
endforeach()
