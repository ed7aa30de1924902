#!/usr/bin/env bash
# scripts/nspawn-test.sh DEBDIR: boots a Debian 12 system (systemd as PID 1, in systemd-nspawn)
# with the sotto packages from DEBDIR installed, starts sottod.service on the simulated radio
# (a drop-in replaces --radio bluez), and reads `sotto status` inside, as a member of group sotto.
# Called by scripts/package-test.sh; run as root. The base root (mmdebstrap, from Debian's
# mirror) is kept in /var/tmp/sotto-nspawn-base for later runs.
set -euo pipefail

DEBDIR="$(cd "$1" && pwd)"
WORK="${SOTTO_NSPAWN_WORK:-/tmp/sotto-nspawn-test}"
BASE=/var/tmp/sotto-nspawn-base
MIRROR="${SOTTO_NSPAWN_MIRROR:-http://deb.debian.org/debian}"
# systemd and dbus to boot; the rest is what the packages depend on, so that installing them
# inside needs no network.
INCLUDE=systemd,systemd-sysv,dbus,libsodium23,libsqlcipher0,libzip4,libprotobuf-lite32,libcurl4,libsdbus-c++1,libfmt9,libssl3
fail() { echo "nspawn-test: FAILED: $*" >&2; exit 1; }

for p in systemd-container mmdebstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    apt-get install -y -qq --no-install-recommends "$p"
done

if [ "$(cat "$BASE/.sotto-base" 2>/dev/null)" != "$INCLUDE" ]; then
  echo "==> mmdebstrap bookworm ($INCLUDE)"
  rm -rf "$BASE" "$BASE.tmp"
  mmdebstrap --quiet --variant=minbase --format=directory --include="$INCLUDE" bookworm \
    "$BASE.tmp" "deb $MIRROR bookworm main" </dev/null
  echo "$INCLUDE" >"$BASE.tmp/.sotto-base"
  mv "$BASE.tmp" "$BASE"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cp -a "$BASE" "$WORK/root"
ROOTFS="$WORK/root"
echo sotto-nspawn >"$ROOTFS/etc/hostname"
mkdir -p "$ROOTFS/var/cache/sotto-debs"  # not /tmp: nspawn mounts a tmpfs there
cp "$DEBDIR"/libsotto1_*.deb "$DEBDIR"/sotto_*.deb "$ROOTFS/var/cache/sotto-debs/"
nspawn=(systemd-nspawn --quiet --register=no --keep-unit -D "$ROOTFS")

echo "==> installing the packages in the container"
"${nspawn[@]}" sh -c 'apt-get install -y -qq --no-install-recommends /var/cache/sotto-debs/*.deb' ||
  fail "apt-get install in the container"
# The simulated air instead of BlueZ (a container has no Bluetooth): the unit as installed, with
# only ExecStart replaced by a drop-in. A user in group sotto to read the status.
mkdir -p "$ROOTFS/etc/systemd/system/sottod.service.d"
cat >"$ROOTFS/etc/systemd/system/sottod.service.d/simulated.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/usr/bin/sottod --radio simulated --sim-peers 3 --sim-speed 60 --store ${STATE_DIRECTORY}/store.db --key-file ${CREDENTIALS_DIRECTORY}/store-key --status-socket ${RUNTIME_DIRECTORY}/status.sock
EOF
"${nspawn[@]}" sh -c 'useradd --create-home --groups sotto alice && systemctl enable sottod.service' ||
  fail "preparing the container"

echo "==> booting"
"${nspawn[@]}" --boot >"$WORK/boot.log" 2>&1 </dev/null &
nspawn_pid=$!
init=
cleanup() {
  if [ -n "$init" ]; then
    timeout 20 nsenter -t "$init" -a systemctl poweroff >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 30); do
    kill -0 "$nspawn_pid" 2>/dev/null || return 0
    sleep 1
  done
  kill -KILL "$nspawn_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 60); do
  init=$(pgrep -P "$nspawn_pid" || true)
  [ -n "$init" ] && break
  sleep 1
done
[ -n "$init" ] || { cat "$WORK/boot.log"; fail "the container did not start"; }
inside() { timeout 30 nsenter -t "$init" -a "$@"; }

status=
for _ in $(seq 1 120); do
  if status=$(inside runuser -u alice -- sotto status --json 2>/dev/null); then
    break
  fi
  status=
  sleep 1
done
inside systemctl --no-pager status sottod.service || true
if [ -z "$status" ]; then
  inside journalctl --no-pager -u sottod.service || true
  fail "sotto status did not answer inside the booted container"
fi
echo "$status"
grep -q '"radio":"simulated"' <<<"$status" || fail "status: not the simulated radio"
[ "$(inside systemctl is-active sottod.service)" = active ] || fail "sottod.service is not active"
state=$(inside systemctl is-system-running || true)
echo "system: $state"
# Run as a dynamic user, not root; a user outside group sotto is refused the status.
uid=$(inside systemctl show -p MainPID --value sottod.service | xargs -I{} nsenter -t "$init" -a \
        stat -c %u /proc/{})
[ "$uid" != 0 ] || fail "sottod runs as root"
inside useradd bob
if inside runuser -u bob -- sotto status >/dev/null 2>&1; then
  fail "sotto status answered a user outside group sotto"
fi
# Beacons from the simulated peers reach the store while it runs.
for _ in $(seq 1 90); do
  status=$(inside runuser -u alice -- sotto status --json)
  grep -q '"accepted":[1-9]' <<<"$status" && break
  sleep 1
done
grep -q '"accepted":[1-9]' <<<"$status" || { echo "$status"; fail "no beacon heard on the simulated air"; }
echo "$status"
echo "nspawn-test: sottod.service runs in a booted Debian 12 (uid $uid), sotto status answers"
