#!/usr/bin/env bash
# The token firmware under QEMU (docs/embedded.md): installs the Arm toolchain and QEMU if
# missing, builds platform/mcu with SOTTO_CRYPTO=portable, runs it on an emulated Cortex-M4
# (mps2-an386) and checks the hand-over end to end:
#   1. on the target: OpenSSL's answers on random inputs (generated here), the 144 GAEN vectors;
#   2. a simulated day logged to emulated NOR flash, exported for the host's pairing key;
#   3. on the host: `sotto token import` stores it (and refuses a replay and a changed byte);
#      matching a signed export.zip of the published contacts finds exactly the scripted ones;
#   4. sizes (arm-none-eabi-size) and instruction counts (QEMU -icount), printed.
# Usage: bash scripts/mcu-test.sh [HOST_BUILD_DIR]   (default: build; built if it has no sotto)
#        SOTTO_KAT_SEED=N reruns the known answers of an earlier run (its seed is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
host_build=${1:-build}
data=${SOTTO_GAEN_DATA_DIR:-$root/../shared/gaen-data}

# shellcheck source=setup.sh
source scripts/setup.sh
sotto_install_packages gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib \
  qemu-system-arm

if [[ ! -x $host_build/apps/sotto/sotto ]]; then
  [[ -f $host_build/build.ninja ]] || SOTTO_BUILD=$root/$host_build sotto_configure >/dev/null
  ninja -C "$host_build" sotto >/dev/null
fi
sotto=$root/$host_build/apps/sotto/sotto
[[ -x $sotto ]] || sotto=$host_build/apps/sotto/sotto

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== known answers for the target (OpenSSL on random inputs; GAEN vectors from $data)"
g++ -std=c++20 -O1 -Itests tests/portable/kat_tool.cpp tests/portable/openssl_kat.cpp -lcrypto -o "$work/kat"
"$work/kat" "$work" "$data/crypto/gaen_test_vectors_v1.2.csv" ${SOTTO_KAT_SEED:-}   # seed: to reproduce

echo "== build the firmware (arm-none-eabi-g++, SOTTO_CRYPTO=portable)"
cmake -S platform/mcu -B "$work/fw" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/platform/mcu/arm-none-eabi.cmake" \
  -DSOTTO_CRYPTO=portable -DSOTTO_MCU_GENERATED="$work" >/dev/null
ninja -C "$work/fw" >/dev/null

echo "== run it on QEMU mps2-an386 (Cortex-M4)"
cd "$work"
"$sotto" token pairing-key -o pairing.key >/dev/null
cp "$root/platform/mcu/day_script.csv" .
qemu() {
  timeout 120 qemu-system-arm -M mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel fw/token.elf -append "pairing.key day_script.csv $1"
}
qemu token-export.bin | tee firmware.out
grep -q '^PASS$' firmware.out

echo "== hand-over: import on the host"
printf '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n' > store.key
chmod 600 store.key
now=$(( (20454 * 144 + 144 + 6) * 600 ))   # 01:00 the next day
imp=(token import --store enc.db --key-file store.key --pairing-key pairing.key --now "$now")
"$sotto" "${imp[@]}" token-export.bin
set +e
"$sotto" "${imp[@]}" token-export.bin 2>replay.err; rc=$?
set -e
[[ $rc == 3 ]] && grep -q replay replay.err || { echo "FAIL: a replayed export was not refused ($rc)"; exit 1; }
cp token-export.bin tampered.bin
printf '\x01' | dd of=tampered.bin bs=1 seek=100 conv=notrunc status=none
set +e
"$sotto" "${imp[@]}" tampered.bin 2>tampered.err; rc=$?
set -e
[[ $rc == 3 ]] && grep -q authentication tampered.err || { echo "FAIL: a changed export was not refused ($rc)"; exit 1; }
"$sotto" token pairing-key -o other.key >/dev/null
set +e
"$sotto" token import --store enc.db --key-file store.key --pairing-key other.key --now "$now" token-export.bin 2>/dev/null; rc=$?
set -e
[[ $rc == 3 ]] || { echo "FAIL: another pairing key opened the export ($rc)"; exit 1; }
echo "refusals: replay, changed byte, wrong pairing key: ok"

echo "== match the published keys"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out authority.pem 2>/dev/null
openssl pkey -in authority.pem -pubout -out authority.pub
{
  echo "tek_hex,rolling_start,rolling_period,transmission_risk_level,report_type,days_since_onset"
  grep -v '^#' "$root/platform/mcu/day_script.csv" | awk -F, '$5 == 1 { print $1 "," 20454*144 ",144,6,1,2" }'
  # Someone else's key the token never heard: must not match.
  echo "00000000000000000000000000000099,$((20454 * 144)),144,6,1,2"
} > keys.csv
"$sotto" export build --keys keys.csv --signing-key authority.pem --key-id 999 --key-version v1 \
  --region XX -o export.zip >/dev/null
"$sotto" match --store enc.db --key-file store.key --now "$now" --pubkey authority.pub \
  --key-id 999 --key-version v1 --json export.zip > match.json
python3 - "$root/platform/mcu/day_script.csv" match.json <<'PY'
import collections, json, sys
script = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
want = {t: int(n) for t, f, n, r, p in script if p == "1"}
got = collections.Counter(m["tek"] for m in json.load(open(sys.argv[2]))["matches"])
if dict(got) != want:
    sys.exit(f"FAIL: matches per TEK {dict(got)} != scripted {want}")
print(f"match: exactly the scripted contacts ({len(want)} keys, {sum(want.values())} intervals)")
PY

echo "== size and speed"
cd "$root"
bash scripts/mcu-size.sh "$work/fw" "$work/firmware.out"
echo "mcu-test: ok"
