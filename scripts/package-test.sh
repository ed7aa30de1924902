#!/usr/bin/env bash
# scripts/package-test.sh: builds the Debian packages (debian/) and tests them the way people
# install and use them. Run as root on Debian 12 (it installs and purges packages); installs the
# tools it needs itself. Steps:
#   1. dpkg-buildpackage -us -uc -b from a copy of the tree (the tree itself is left as it is);
#   2. lintian: no error, and every warning left is explained (debian/README.source);
#   3. apt-get install ./*.deb, then, as an unprivileged user with no variables set:
#      sotto --version, sottod --version, python3 -c 'import sotto', a C consumer through
#      pkg-config, a C++ consumer through find_package (all components, and core alone);
#   4. the unit as installed: systemd-analyze verify (not one message), security <= 2.0, the
#      paths it names exist, the D-Bus policy loads;
#   5. the installed sottod as a throw-away UID in group "sotto", no "bluetooth" group, no BlueZ:
#      it runs degraded (status answers), reads a --pubkey under /etc/sotto/pubkeys, stops cleanly;
#   6. apt-get purge: nothing is left but data under /var/lib;
#   7. docs/raspberry-pi.md: every block marked "sh package-test", in order, as written;
#   8. scripts/nspawn-test.sh: a booted Debian 12 (systemd-nspawn) with the packages runs
#      sottod.service on the simulated radio, and `sotto status` answers inside.
# Environment: SOTTO_PACKAGE_WORK (default /tmp/sotto-package-test) holds the copy, the .debs and
# logs; the .debs stay there afterwards.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${SOTTO_PACKAGE_WORK:-/tmp/sotto-package-test}"
PACKAGES=(libsotto1 libsotto-dev sotto python3-sotto libsotto-java)
export DEBIAN_FRONTEND=noninteractive
SYSPATH=/usr/sbin:/usr/bin:/sbin:/bin

step() { echo "==> $*"; }
# Purges those of our packages that are installed. apt-get refuses the whole command when it
# names a package it does not know, and a purged local .deb is unknown to it.
purge_ours() {
  local p installed=()
  for p in "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qE 'ok (installed|config-files|half)'; then installed+=("$p"); fi
  done
  [ ${#installed[@]} -eq 0 ] || apt-get purge -y -qq "${installed[@]}"
}
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
  fail "run as root (it installs and purges Debian packages)"
fi

# --- tools -------------------------------------------------------------------------------------
need=(dpkg-dev debhelper dh-python lintian fakeroot build-essential ccache systemd dbus
      pkg-config cmake ninja-build util-linux openssl python3)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# What debian/control's Build-Depends asks for.
if ! (cd "$ROOT" && dpkg-checkbuilddeps >/dev/null 2>&1); then
  step "installing the Build-Depends of debian/control"
  apt-get build-dep -y -qq --no-install-recommends "$ROOT" ||
    { apt-get update -qq && apt-get build-dep -y -qq --no-install-recommends "$ROOT"; }
fi

# Leftovers of an earlier, interrupted run.
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed\|config-files"; then
    apt-get purge -y -qq "$p" >/dev/null
  fi
done

# --- 1. build ----------------------------------------------------------------------------------
# A fixed path: ccache then hits across runs (the compile lines carry it).
step "copying the tree to $WORK/src"
rm -rf "$WORK"
mkdir -p "$WORK/src"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
     xargs -0 cp --parents -P -t "$WORK/src" 2>/dev/null || true)
else
  (cd "$ROOT" && tar --exclude='./build*' --exclude='./.git' -cf - .) | tar -C "$WORK/src" -xf -
fi
[ -f "$WORK/src/debian/control" ] || fail "no debian/ in the copy"

step "dpkg-buildpackage -us -uc -b (log: $WORK/build.log)"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache
            CCACHE_BASEDIR="$WORK/src" CCACHE_NOHASHDIR=1
            CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}")
fi
start=$(date +%s)
if ! (cd "$WORK/src" && env -i PATH="$SYSPATH" HOME="$HOME" LANG=C.UTF-8 "${launcher[@]}" \
        DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck noddebs" \
        nice -n 5 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log"
  fail "dpkg-buildpackage"
fi
echo "built in $(( $(date +%s) - start )) s"
mkdir -p "$WORK/debs"
cp "$WORK"/*.deb "$WORK/debs/"
ls -l "$WORK/debs"
for p in "${PACKAGES[@]}"; do
  compgen -G "$WORK/debs/${p}_*.deb" >/dev/null || fail "no ${p}_*.deb was built"
done

# --- 2. lintian --------------------------------------------------------------------------------
step "lintian"
changes=$(ls "$WORK"/sotto_*.changes)
lintian --info --display-info --show-overrides "$changes" >"$WORK/lintian.txt" 2>&1 || true
cat "$WORK/lintian.txt"
if grep -q '^E: ' "$WORK/lintian.txt"; then
  fail "lintian reports errors"
fi
# Every warning still printed must be explained in debian/README.source ("lintian" section).
for tag in $(grep '^W: ' "$WORK/lintian.txt" | awk '{print $3}' | sort -u); do
  grep -q -- "- \`$tag\`" "$ROOT/debian/README.source" ||
    fail "lintian warning $tag is not explained in debian/README.source"
done
echo "lintian: $(grep -c '^E: ' "$WORK/lintian.txt" || true) errors," \
     "$(grep -c '^W: ' "$WORK/lintian.txt" || true) warnings (explained)," \
     "$(grep -c '^O: ' "$WORK/lintian.txt" || true) overridden"

# --- 3. install and use ------------------------------------------------------------------------
# What the system holds before, to compare after the purge.
snapshot() {
  find /etc /usr /lib /opt /var -xdev \
    \( -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/log \
       -o -path /var/tmp -o -path /var/backups -o -path /var/lib/systemd -o -path /var/mail \
       -o -path /var/spool -o -path /var/lib/ucf -o -path /var/lib/python \) -prune \
    -o -print 2>/dev/null | sort
}
snapshot >"$WORK/before.txt"

step "apt-get install ./*.deb"
# Whatever happens from here on, the machine is left without the packages: a failed run must not
# leave a system-wide libsotto.so.1 behind for the next build's tests to find.
trap 'purge_ours >/dev/null 2>&1 || true' EXIT
(cd "$WORK/debs" && apt-get install -y -qq ./*.deb) >"$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log"; fail "apt-get install ./*.deb"; }

# As a user would: unprivileged, the system PATH, no SOTTO_LIBRARY/LD_LIBRARY_PATH/PYTHONPATH.
USERDIR="$WORK/user"
mkdir -p "$USERDIR"
cp -r "$ROOT/tests/packaging" "$USERDIR/consumers"
chown -R nobody:nogroup "$USERDIR"
as_user() {
  (cd "$USERDIR" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
     env -i PATH="$SYSPATH" HOME="$USERDIR" LANG=C.UTF-8 "$@")
}
version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)

step "sotto --version, sottod --version"
out=$(as_user sotto --version); echo "$out"
grep -q "$version" <<<"$out" || fail "sotto --version does not say $version"
out=$(as_user sottod --version); echo "$out"
grep -q "$version" <<<"$out" || fail "sottod --version does not say $version"

step "python3 -c 'import sotto'"
out=$(as_user python3 -c 'import sotto; print(sotto.version(), sotto.__file__, sotto._lib.lib._name)')
echo "$out"
grep -q "^$version /usr/lib/python3/dist-packages/sotto/__init__.py libsotto.so.1$" <<<"$out" ||
  fail "import sotto: not the packaged module over libsotto1"
as_user python3 -c "
import sotto
assert sotto.derive_rpis(bytes.fromhex('75c734c6dd1a782de7a965da5eb93125'), 2642976, 1)[0].hex() == '8be6cd371c5c891604bfbe49df845096'
try:
    sotto.derive_rpis(bytes(15), 2642976, 1)
    raise SystemExit('a 15-byte TEK was accepted')
except sotto.SottoError as e:
    assert e.name == 'SOTTO_ERR_INVALID_ARGUMENT'
" || fail "the packaged Python module"

step "Java consumer of /usr/share/java/sotto.jar (JNI glue found on the JVM's default path)"
mkdir -p "$USERDIR/java"
cat >"$USERDIR/java/Main.java" <<'JAVA'
import org.sotto.Gaen;
import org.sotto.SottoException;

public final class Main {
    public static void main(String[] args) {
        byte[] tek = new byte[16];
        String hex = "75c734c6dd1a782de7a965da5eb93125";
        for (int i = 0; i < 16; i++) tek[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        StringBuilder rpi = new StringBuilder();
        for (byte b : Gaen.deriveRpis(tek, 2642976L, 1)) rpi.append(String.format("%02x", b));
        if (!rpi.toString().equals("8be6cd371c5c891604bfbe49df845096")) throw new AssertionError(rpi);
        try {
            Gaen.deriveRpis(new byte[15], 2642976L, 1);
            throw new AssertionError("a 15-byte TEK was accepted");
        } catch (SottoException e) {
            System.out.println("refused: " + e.getMessage());
        }
        System.out.println("java ok " + rpi);
    }
}
JAVA
chown -R nobody:nogroup "$USERDIR/java"
(cd "$USERDIR/java" && as_user javac -cp /usr/share/java/sotto.jar -d "$USERDIR/java" "$USERDIR/java/Main.java") ||
  fail "javac against the packaged sotto.jar"
out=$(as_user java -cp "/usr/share/java/sotto.jar:$USERDIR/java" Main) || { echo "$out"; fail "the packaged Java binding"; }
echo "$out"
grep -q "^java ok 8be6cd371c5c891604bfbe49df845096$" <<<"$out" || fail "the packaged Java binding"

step "C consumer through pkg-config"
as_user sh -c 'cc -std=c11 -Wall -Wextra -Werror -pedantic consumers/c/consumer.c \
                 $(pkg-config --cflags --libs sotto) -o c-consumer && ./c-consumer' ||
  fail "C consumer"

step "C++ consumers through find_package"
as_user cmake -S consumers -B cxx-all -G Ninja --no-warn-unused-cli >/dev/null || fail "find_package(sotto) (all)"
as_user cmake --build cxx-all >/dev/null || fail "building the C++ consumer"
as_user ./cxx-all/consumer || fail "the C++ consumer"
as_user cmake -S consumers/components -B cxx-core -G Ninja --no-warn-unused-cli \
  -DSOTTO_TEST_COMPONENTS=core \
  -DSOTTO_TEST_EXPECT=found -DCMAKE_DISABLE_FIND_PACKAGE_CURL=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_sdbus-c++=ON -DCMAKE_DISABLE_FIND_PACKAGE_Protobuf=ON \
  >/dev/null || fail "find_package(sotto COMPONENTS core) with CURL, sdbus-c++, Protobuf hidden"
as_user cmake --build cxx-core >/dev/null && as_user ./cxx-core/consumer ||
  fail "the core-only C++ consumer"

# --- 4. the unit as installed ------------------------------------------------------------------
UNIT=/lib/systemd/system/sottod.service
step "systemd-analyze verify $UNIT (as installed)"
out=$(systemd-analyze verify "$UNIT" 2>&1) || { echo "$out"; fail "systemd-analyze verify"; }
[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify printed messages"; }
systemd-analyze security --offline=yes --threshold=20 "$UNIT" | tail -1 ||
  fail "systemd-analyze security: exposure above 2.0"
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT")
doc_path=$(sed -n 's/^Documentation=file:\(.*\)/\1/p' "$UNIT")
env_path=$(sed -n 's/^EnvironmentFile=-\(.*\)/\1/p' "$UNIT")
cred_path=$(sed -n 's/^LoadCredential=store-key:\(.*\)/\1/p' "$UNIT")
[ -x "$exec_path" ] || fail "ExecStart $exec_path is not installed"
[ -f "$doc_path" ] || fail "Documentation= $doc_path is not installed"
[ -f "$env_path" ] || fail "EnvironmentFile= $env_path is not installed"
[ "$(stat -c %a:%U "$cred_path")" = "600:root" ] || fail "the store key $cred_path is not 0600 root"
grep -Eq '^[0-9a-f]{64}$' "$cred_path" || fail "the store key is not 64 hex characters"
grep -q '^SupplementaryGroups=' "$UNIT" && fail "the unit needs a supplementary group"
getent group sotto >/dev/null || fail "group sotto was not created"
[ "$(stat -c %a "$(dirname "$cred_path")/pubkeys")" = 755 ] || fail "/etc/sotto/pubkeys is not 0755"
echo "ExecStart, Documentation, EnvironmentFile, the credential and group sotto are in place"

# --- 5. the installed sottod, degraded: no BlueZ, no "bluetooth" group -------------------------
step "sottod without BlueZ, as a throw-away UID in group sotto"
if getent group bluetooth >/dev/null; then
  echo "(group bluetooth exists here; the unit does not use it either way)"
fi
RUN="$WORK/run"
mkdir -p "$RUN/state" "$RUN/runtime" "$RUN/keys"
cat >"$RUN/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$RUN/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <deny send_destination="org.bluez"/>
  </policy>
  <include>/usr/share/dbus-1/system.d/sotto.conf</include>
</busconfig>
EOF
dbus-daemon --config-file="$RUN/bus.conf" --fork --print-pid >"$RUN/bus.pid" ||
  fail "dbus-daemon refused a bus that includes sotto's policy"
# A user of its own that is no member of anything, as DynamicUser gives (dbus-daemon refuses a UID
# without a passwd entry, which systemd's NSS module provides for dynamic users: "nobody" here).
DYNUID=nobody
chown "$DYNUID:sotto" "$RUN/state" "$RUN/runtime"
chmod 0700 "$RUN/state"
chmod 0750 "$RUN/runtime"
install -o "$DYNUID" -m 0600 "$cred_path" "$RUN/store-key"
openssl ecparam -name prime256v1 -genkey -noout -out "$RUN/authority.key" 2>/dev/null
install -d -m 0755 /etc/sotto/pubkeys
openssl ec -in "$RUN/authority.key" -pubout -out /etc/sotto/pubkeys/package-test.pem 2>/dev/null
chmod 0644 /etc/sotto/pubkeys/package-test.pem
setpriv --reuid="$DYNUID" --regid="$(getent group sotto | cut -d: -f3)" --clear-groups \
  env -i PATH="$SYSPATH" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$RUN/bus.sock" \
  sottod --radio bluez --store "$RUN/state/store.db" --key-file "$RUN/store-key" \
         --status-socket "$RUN/runtime/status.sock" --keys-dir "$RUN/keys" \
         --pubkey /etc/sotto/pubkeys/package-test.pem --check-every 1h \
  >"$RUN/sottod.log" 2>&1 &
sottod_pid=$!
ok=
for _ in $(seq 1 100); do
  if [ -S "$RUN/runtime/status.sock" ] &&
     setpriv --reuid=daemon --regid="$(getent group sotto | cut -d: -f3)" --clear-groups \
       sotto status --json --socket "$RUN/runtime/status.sock" >"$RUN/status.json" 2>/dev/null; then
    ok=1; break
  fi
  kill -0 "$sottod_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ok" ]; then
  cat "$RUN/sottod.log"; kill "$sottod_pid" 2>/dev/null || true
  kill "$(cat "$RUN/bus.pid")" 2>/dev/null || true
  fail "sottod without BlueZ did not answer sotto status"
fi
cat "$RUN/status.json"; echo
grep -q '"adapter_present":false' "$RUN/status.json" || fail "status: the adapter should be absent"
grep -q '"configured":true' "$RUN/status.json" || fail "status: key rounds should be configured"
# A member of no group "sotto" may not read the status.
if setpriv --reuid=daemon --regid=nogroup --clear-groups \
     sotto status --socket "$RUN/runtime/status.sock" >/dev/null 2>&1; then
  fail "sotto status answered a user outside group sotto"
fi
kill -TERM "$sottod_pid"
rc=0; wait "$sottod_pid" || rc=$?
kill "$(cat "$RUN/bus.pid")" 2>/dev/null || true
cat "$RUN/sottod.log"
[ "$rc" -eq 0 ] || fail "sottod exited $rc after SIGTERM"
rm -f /etc/sotto/pubkeys/package-test.pem
echo "sottod ran degraded, served status to group sotto only, and stopped cleanly"

# --- 6. purge ----------------------------------------------------------------------------------
step "apt-get purge"
purge_ours >"$WORK/purge.log" 2>&1 ||
  { cat "$WORK/purge.log"; fail "apt-get purge"; }
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed\|config-files"; then
    fail "$p is still known to dpkg after the purge"
  fi
done
snapshot >"$WORK/after.txt"
# Allowed: data under /var/lib, and the backups systemd-sysusers keeps of the user database.
# Files that a package still installed owns came from someone else's apt-get meanwhile (a shared
# machine), not from ours.
left=$(comm -13 "$WORK/before.txt" "$WORK/after.txt" |
       grep -v -E '^/var/lib/|^/etc/(group|gshadow|passwd|shadow)-$' |
       while read -r f; do dpkg-query -S "$f" >/dev/null 2>&1 || echo "$f"; done || true)
if [ -n "$left" ]; then
  echo "$left"
  fail "the purge left files behind"
fi
gone=$(comm -23 "$WORK/before.txt" "$WORK/after.txt" | grep -v '^/var/lib/' |
       while read -r f; do [ -e "$f" ] || echo "$f"; done || true)
[ -z "$gone" ] || { echo "$gone"; fail "install and purge removed files that were there before"; }
echo "purged: nothing left but data under /var/lib"

# --- 7. docs/raspberry-pi.md -------------------------------------------------------------------
step "docs/raspberry-pi.md, every block marked package-test"
had_bluez=$(dpkg-query -W -f='${Status}' bluez 2>/dev/null | grep -c "install ok installed" || true)
PI="$WORK/pi"
mkdir -p "$PI"
cp "$WORK"/debs/*.deb "$PI/"
openssl ec -in "$RUN/authority.key" -pubout -out "$PI/authority.pem" 2>/dev/null
# The blocks marked `sh package-test` (tests/docs/doc_blocks.py; docs.blocks checks that every file
# with such blocks is named here).
(cd "$ROOT" && python3 "$ROOT/tests/docs/doc_blocks.py" extract --mark package-test docs/raspberry-pi.md) >"$PI/blocks.sh"
cat "$PI/blocks.sh"
(cd "$PI" && env -i PATH="$SYSPATH" HOME="$PI" USER=nobody LANG=C.UTF-8 \
   bash -euo pipefail -c 'sudo() { "$@"; }; source ./blocks.sh') ||
  fail "a command of docs/raspberry-pi.md failed"
grep -q '^SOTTOD_OPTS="--keys-url https://keys.example.org/v1 --pubkey /etc/sotto/pubkeys/authority.pem"$' \
  /etc/default/sottod || fail "the guide's SOTTOD_OPTS line did not land in /etc/default/sottod"
purge_ours >"$WORK/purge-pi.log" 2>&1 || { cat "$WORK/purge-pi.log"; fail "apt-get purge after the guide"; }
if [ "$(dpkg -l | awk '$2 ~ /^(libsotto|sotto|python3-sotto)/' | wc -l)" -ne 0 ]; then
  fail "packages of ours still installed after the purge"
fi
if [ "$had_bluez" = 0 ]; then
  apt-get purge -y -qq bluez >/dev/null 2>&1 || true
fi
if [ -n "$(getent group sotto)" ]; then
  gpasswd -d nobody sotto >/dev/null 2>&1 || true   # the guide's usermod, undone
fi

# --- 8. a booted system ------------------------------------------------------------------------
step "scripts/nspawn-test.sh: sottod.service in a booted Debian 12"
bash "$ROOT/scripts/nspawn-test.sh" "$WORK/debs" || fail "nspawn-test"

echo "package-test: all passed"
