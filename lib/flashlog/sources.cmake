# Sources of the flash log that the token builds (platform/mcu) as well as the host.
set(SOTTO_FLASHLOG_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/flash_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/key_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/export.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sim_flash.cpp)
