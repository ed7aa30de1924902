# Source lists of the SOTTO_CRYPTO=portable build, shared by the host build (lib/core/portable)
# and the firmware build (platform/mcu), which compiles them with arm-none-eabi-g++.
set(SOTTO_CORE_DIR "${CMAKE_CURRENT_LIST_DIR}/..")
# The primitives: no dependency at all.
set(SOTTO_PORTABLE_CRYPTO_SOURCES
  ${SOTTO_CORE_DIR}/portable/aes128_ct.cpp
  ${SOTTO_CORE_DIR}/portable/sha256_ct.cpp)
# The part of lib/core a token needs (keys, RPIs, AEMs, metadata, the BLE payload), with the
# portable backend in place of aes128*.cpp, hkdf.cpp, sha256_*.cpp, rng.cpp, secret.cpp and
# sodium_init.cpp. Matching, risk and hex stay on the host.
set(SOTTO_CORE_TOKEN_SOURCES
  ${SOTTO_CORE_DIR}/error.cpp
  ${SOTTO_CORE_DIR}/interval.cpp
  ${SOTTO_CORE_DIR}/keys.cpp
  ${SOTTO_CORE_DIR}/rolling_id.cpp
  ${SOTTO_CORE_DIR}/metadata.cpp
  ${SOTTO_CORE_DIR}/payload.cpp
  ${SOTTO_CORE_DIR}/portable/backend.cpp
  ${SOTTO_CORE_DIR}/portable/rng.cpp
  ${SOTTO_CORE_DIR}/portable/secret.cpp)
