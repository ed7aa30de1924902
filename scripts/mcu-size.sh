#!/usr/bin/env bash
# Prints the token's flash/RAM use (arm-none-eabi-size) and the firmware's instruction counts
# (measured under QEMU -icount shift=0, one instruction per nanosecond of virtual time) as
# milliseconds on a 64 MHz Cortex-M4, against the goals of docs/embedded.md.
# Usage: bash scripts/mcu-size.sh FIRMWARE_BUILD_DIR FIRMWARE_OUTPUT   (scripts/mcu-test.sh runs it)
set -euo pipefail
fw=$1 out=$2
# The linked size of each library inside the firmware, from the link map (unused code is gone).
sizes=$(python3 - "$fw/token.map" <<'PY'
import re, sys
flash = {"core": 0, "flashlog": 0}; ram = {"core": 0, "flashlog": 0}
lines = open(sys.argv[1]).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
pending = None
for l in lines[start:]:
    m = re.match(r"^ (\.(?:text|rodata|data|bss)\S*)\s*$", l)
    if m:
        pending = m.group(1); continue
    m = re.match(r"^ (\.(?:text|rodata|data|bss)\S*)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", l)
    if m and (m.group(1) or pending):
        sec = m.group(1) or pending; pending = None
        size, obj = int(m.group(3), 16), m.group(4)
        lib = "core" if "libtoken_core" in obj else "flashlog" if "libtoken_flashlog" in obj else None
        if lib and size:
            if sec.startswith((".data", ".bss")): ram[lib] += size
            if not sec.startswith(".bss"): flash[lib] += size
    else:
        pending = None
print(flash["core"], ram["core"], flash["flashlog"], ram["flashlog"])
PY
)
read -r core_flash core_ram log_flash log_ram <<<"$sizes"
# -fstack-usage: the largest frame of one function in the two libraries.
stack=$(find "$fw/CMakeFiles/token_core.dir" "$fw/CMakeFiles/token_flashlog.dir" -name '*.su' -exec cat {} + |
        awk '{ if ($(NF-1) + 0 > m) m = $(NF-1) + 0 } END { print m + 0 }')
echo "arm-none-eabi-size (whole firmware, incl. newlib, semihosting stdio, test tables, 256 KiB emulated flash in .bss):"
arm-none-eabi-size "$fw/token.elf"
printf '%-34s %8s %8s\n' "linked into the firmware" "flash" "RAM"
printf '%-34s %8d %8d\n' "core + portable crypto" "$core_flash" "$core_ram"
printf '%-34s %8d %8d\n' "flash log" "$log_flash" "$log_ram"
total=$((core_flash + log_flash))
echo "core + flash log: $total bytes flash (goal <= 49152), static RAM $((core_ram + log_ram)) bytes;"
day_stack=$(sed -n 's/^stack: \([0-9]*\) bytes.*FlashLog object \([0-9]*\) bytes$/\1 \2/p' "$out")
read -r used obj <<<"$day_stack"
echo "largest stack frame of one function in them: $stack bytes; stack used by a whole simulated day"
echo "(measured): $used bytes; FlashLog object $obj bytes; RAM in all: $((core_ram + log_ram + used + obj)) bytes (goal <= 8192)"
((core_ram + log_ram + used + obj <= 8192)) || { echo "FAIL: core + flash log need more than 8 KiB of RAM"; exit 1; }
rpis=$(sed -n 's/^instructions: TEK -> 144 RPIs \([0-9]*\); per appended row \([0-9]*\)$/\1 \2/p' "$out")
read -r i_day i_row <<<"$rpis"
awk -v d="$i_day" -v r="$i_row" 'BEGIN {
  printf "instructions: TEK -> 144 RPIs %d (%.1f ms at 64 MHz, goal < 50 ms); per appended row %d (%.2f ms)\n",
    d, d / 64e3, r, r / 64e3 }'
((total <= 49152)) || { echo "FAIL: core + flash log exceed 48 KiB"; exit 1; }
awk -v d="$i_day" 'BEGIN { exit !(d / 64e3 < 50) }' || { echo "FAIL: a day of RPIs takes 50 ms or more"; exit 1; }
