#!/bin/sh
# runtime-v2.sh BINDIR: hako's create, exec, run and delete on a pure
# cgroup v2 kernel, run inside ../shared/vm by hack/test-v2.sh. The init is
# cloned into its cgroup (CLONE_INTO_CGROUP) and waits as the C exec
# stage; an exec is cloned in too and never starts Go inside; a seccomp
# profile is compiled once, then taken from the cache. Prints
# "runtime-v2: ok" or fails at the first check that does not hold.
set -eu
bin=$1
w=$(mktemp -d)
h="$bin/hako --root $w/state"
fail() { echo "runtime-v2: $*" >&2; exit 1; }
"$bin/mkbundle" "$w/sleep" -- /bin/sleep 600 >/dev/null
"$bin/mkbundle" "$w/true" -- /bin/true >/dev/null
$h create --bundle "$w/sleep" c1
pid=$($h state c1 | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^_HAKO_EXEC_PLAN=' || fail "the init does not wait as the exec stage"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
[ "$hwm" -le 5120 ] || fail "waiting init's peak RSS ${hwm} kB"
grep -qx "$pid" /sys/fs/cgroup/hako/c1/cgroup.procs || fail "init $pid not in its cgroup"
$h start c1
out=$($h exec c1 cat /proc/self/cgroup)
[ "$out" = "0::/hako/c1" ] || [ "$out" = "0::/" ] || fail "exec'd process in cgroup $out"
$h exec c1 sh -c 'exit 3' && fail "exec exit status lost" || [ $? -eq 3 ] || fail "exec exit status not 3"
$h delete -f c1
$h run --bundle "$w/true" c2 || fail "run of /bin/true"
# A seccomp profile, compiled by the first run into the cache and taken
# from it by the second; an exec loads the container's own.
export HAKO_SECCOMP_CACHE="$w/seccomp-cache"
"$bin/mkbundle" "$w/mkdir" -- /bin/sh -c 'mkdir /tmp/x 2>&1; true' >/dev/null
sed -i 's|"linux": *{|"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]},|' "$w/mkdir/config.json"
for c in c3 c4; do
	$h run --bundle "$w/mkdir" $c | grep -q 'Permission denied' || fail "$c: mkdir not refused by the seccomp profile"
done
[ "$(ls "$w/seccomp-cache" | wc -l)" = 1 ] || fail "seccomp cache: $(ls "$w/seccomp-cache" | wc -l) entries, want 1"
[ ! -e /sys/fs/cgroup/hako/c1 ] && [ ! -e /sys/fs/cgroup/hako/c2 ] || fail "cgroups left behind"
rmdir /sys/fs/cgroup/hako
rm -rf "$w"
echo "runtime-v2: ok"
