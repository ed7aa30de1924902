#!/usr/bin/env bash
# Prints the token's flash/RAM use (arm-none-eabi-size) and the firmware's instruction counts
# (measured under QEMU -icount shift=0, one instruction per nanosecond of virtual time) as
# milliseconds on a 64 MHz Cortex-M4, against the goals of docs/embedded.md.
# Usage: bash scripts/mcu-size.sh FIRMWARE_BUILD_DIR FIRMWARE_OUTPUT   (scripts/mcu-test.sh runs it)
set -euo pipefail
fw=$1 out=$2
# The linked size of each library inside the firmware, from the link map (unused code is gone).
sizes=$(awk '
  /^ \.(text|rodata|data|bss)/ && NF >= 4 && $2 ~ /^0x/ { sec=$1; size=strtonum($3); obj=$4 }
  /^ \.(text|rodata|data|bss)[^ ]*$/ { sec=$1; getline; if ($1 ~ /^0x/) { size=strtonum($2); obj=$3 } else next }
  obj != "" && size > 0 {
    lib = obj ~ /libtoken_core/ ? "core" : obj ~ /libtoken_flashlog/ ? "flashlog" : ""
    if (lib != "") { if (sec ~ /bss|data/) ram[lib] += size; if (sec !~ /bss/) flash[lib] += size }
    obj = ""
  }
  END { printf "%d %d %d %d\n", flash["core"], ram["core"], flash["flashlog"], ram["flashlog"] }
' "$fw/token.map")
read -r core_flash core_ram log_flash log_ram <<<"$sizes"
stack=$(cat "$fw"/CMakeFiles/token_core.dir/*/*.su "$fw"/CMakeFiles/token_core.dir/*/*/*.su \
        "$fw"/CMakeFiles/token_flashlog.dir/*/*.su "$fw"/CMakeFiles/token_flashlog.dir/*/*/*.su 2>/dev/null |
        awk '{ if ($(NF-1) + 0 > m) m = $(NF-1) + 0 } END { print m + 0 }')
echo "arm-none-eabi-size (whole firmware, incl. newlib, semihosting stdio, test tables, 256 KiB emulated flash in .bss):"
arm-none-eabi-size "$fw/token.elf"
printf '%-34s %8s %8s\n' "linked into the firmware" "flash" "RAM"
printf '%-34s %8d %8d\n' "core + portable crypto" "$core_flash" "$core_ram"
printf '%-34s %8d %8d\n' "flash log" "$log_flash" "$log_ram"
total=$((core_flash + log_flash))
echo "core + flash log: $total bytes flash (goal <= 49152), static RAM $((core_ram + log_ram)) bytes;"
echo "largest stack frame of one function in them: $stack bytes; FlashLog object: ~350 bytes (goal: RAM <= 8192)"
rpis=$(sed -n 's/^instructions: TEK -> 144 RPIs \([0-9]*\); per appended row \([0-9]*\)$/\1 \2/p' "$out")
read -r i_day i_row <<<"$rpis"
awk -v d="$i_day" -v r="$i_row" 'BEGIN {
  printf "instructions: TEK -> 144 RPIs %d (%.1f ms at 64 MHz, goal < 50 ms); per appended row %d (%.2f ms)\n",
    d, d / 64e3, r, r / 64e3 }'
((total <= 49152)) || { echo "FAIL: core + flash log exceed 48 KiB"; exit 1; }
awk -v d="$i_day" 'BEGIN { exit !(d / 64e3 < 50) }' || { echo "FAIL: a day of RPIs takes 50 ms or more"; exit 1; }
