#!/bin/bash
# make bench: the cost of a container's whole life (create, start, wait,
# delete: `run` of busybox true), hako side by side with runc and crun from
# Debian, measured with hyperfine. The machine is noisy: read the ratios.
set -eu
cd "$(dirname "$0")/.."
hack/setup.sh runc crun hyperfine strace bc time golang-github-containers-common
bin=$PWD/bin
work=$(mktemp -d)
root=$work/state
cleanup() {
	for rt in hako runc crun; do
		for id in $("$rt" --root "$root/$rt" list -q 2>/dev/null || true); do
			"$rt" --root "$root/$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	rmdir /sys/fs/cgroup/*/hako-bench /sys/fs/cgroup/hako-bench 2>/dev/null || true
	# The default parent of the strace run's cgroup, if it was the last
	# one there (rmdir removes only an empty one).
	rmdir /sys/fs/cgroup/*/hako /sys/fs/cgroup/hako 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
# hako's cache of compiled seccomp profiles: the bench's own.
export HAKO_SECCOMP_CACHE=$work/seccomp-cache
"$bin/mkbundle" "$work/bundle" -- /bin/true

# ratio NAME JSON: the first command's mean over each other's.
ratio() {
	python3 - "$1" "$2" <<'PY'
import json, sys
rs = json.load(open(sys.argv[2]))["results"]
first = rs[0]
for x in rs[1:]:
    print(f"bench: {sys.argv[1]}: {first['command']}/{x['command']} = {first['mean'] / x['mean']:.2f} "
          f"(mean {first['mean']*1e3:.2f} ms vs {x['mean']*1e3:.2f} ms)")
PY
}
runs=${BENCH_RUNS:-50}

# nsenter: namespace entry against util-linux (target: within 1.5x).
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/unshare.json" \
	-n nsrun "$bin/nsrun --new pid,mnt,uts,ipc --fork -- /bin/true" \
	-n unshare "unshare --fork --pid --mount --uts --ipc /bin/true" >/dev/null
ratio "new pid,mnt,uts,ipc namespaces + fork + /bin/true" "$work/unshare.json"
unshare --fork --pid --mount --uts --ipc --net sleep 600 2>/dev/null &
ushare=$!
target=""
for _ in $(seq 100); do
	target=$(cat /proc/$ushare/task/$ushare/children 2>/dev/null | awk '{print $1}')
	[ -n "$target" ] && break
	sleep 0.05
done
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/nsenter.json" \
	-n nsrun "$bin/nsrun --target $target --all -- /bin/true" \
	-n nsenter "nsenter -t $target -a /bin/true" >/dev/null
ratio "join all namespaces of a process + /bin/true" "$work/nsenter.json"
kill -KILL "$target" # pid 1 of its namespace: unshare (which ignores SIGTERM) then exits
wait "$ushare" 2>/dev/null || true

# The runtimes side by side: run, create+start+delete, exec, 50 in
# parallel, the init's memory, the binary (hack/bench-runtimes.sh).
echo "bench: runtimes on this host (hybrid cgroups):"
mkdir -p "$work/rt" "$work/rt1"
hack/bench-runtimes.sh "$bin" "$work/rt" hako runc
# crun refuses a hybrid host whose cgroup2 mount holds a controller, and
# moving hugetlb to a v1 hierarchy (CLIENTS.md) needs it unused in cgroup2,
# which other cgroups here keep it from being. In a mount namespace of its
# own without that cgroup2 mount, the host looks like a pure v1 one, which
# crun takes: all three runtimes are compared there, on this hardware.
echo "bench: runtimes on this host's v1 controllers (cgroup2 mount hidden in a private mount namespace):"
if mountpoint -q /sys/fs/cgroup/unified; then
	unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh hack/bench-runtimes.sh "$bin" "$work/rt1" hako runc crun
else
	hack/bench-runtimes.sh "$bin" "$work/rt1" hako runc crun
fi
# And in the cgroup v2 VM, every binary copied into the VM's memory first
# (paged in over 9p each binary would cost more than its whole run).
vmrun=${VMRUN:-$(cd .. && pwd)/shared/vm/vm-run.sh}
if [ "${BENCH_VM:-1}" = 1 ] && [ -x "$vmrun" ]; then
	hack/setup.sh qemu-system-x86
	vm=$work/vm
	mkdir -p "$vm/lib"
	chmod 0755 "$work" "$vm"
	cp "$bin/hako" "$bin/mkbundle" hack/bench-runtimes.sh "$vm/"
	for b in runc crun; do
		cp "$(command -v $b)" "$vm/"
		for l in $(ldd "$(command -v $b)" | awk '/=>/ {print $3}'); do cp -n "$l" "$vm/lib/"; done
	done
	cat >"$vm/run.sh" <<VMEOF
cp -r $vm /tmp/rt
export LD_LIBRARY_PATH=/tmp/rt/lib PATH=/tmp/rt:\$PATH
exec /usr/bin/bash /tmp/rt/bench-runtimes.sh /tmp/rt /tmp/w hako runc crun
VMEOF
	echo "bench: runtimes in the cgroup v2 VM (qemu without KVM: every number ~10x, read the ratios):"
	"$vmrun" --host-usr --share "$vm" --timeout 3600 -e BENCH_RUNS -- /usr/bin/bash "$vm/run.sh" ||
		echo "bench: the VM run failed"
fi

# rootfs: the mount plan of runc's default config (the bundle's). strace
# counts the mount-family syscalls and mountinfo reads of a whole `hako
# run`; hyperfine times `rootfs run` of that config against `rootfs plan`
# (same binary start, no mounts): the difference is the plan's own cost.
strace -f -qq -o "$work/strace.txt" -e trace=mount,umount2,pivot_root,mount_setattr,open_tree,move_mount,openat,open \
	"$bin/hako" --root "$root/hako" run --bundle "$work/bundle" bench-strace >/dev/null
python3 - "$work/strace.txt" <<'PY'
import collections, re, sys
calls = collections.Counter()
mountinfo = 0
for line in open(sys.argv[1]):
    m = re.match(r"\d+\s+(\w+)\(", line)
    if not m:
        continue
    if m.group(1) in ("openat", "open"):
        mountinfo += "mountinfo" in line
    else:
        calls[m.group(1)] += 1
print("bench: rootfs: hako run of the default config makes " +
      ", ".join(f"{n} {c}" for c, n in sorted(calls.items())) + f"; mountinfo reads {mountinfo} (the Go runtime's own at start-up, in hako's CLI: "
      "its init runs no Go; the mount plan reads none)")
PY
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/rootfs.json" \
	-n "rootfs run" "unshare -m $bin/rootfs run --config $work/bundle/config.json -- /bin/true" \
	-n "rootfs plan" "unshare -m $bin/rootfs plan --config $work/bundle/config.json" >/dev/null
python3 - "$work/rootfs.json" <<'PY'
import json, sys
run, plan = json.load(open(sys.argv[1]))["results"]
print(f"bench: rootfs: the mount plan of the default config costs {(run['median'] - plan['median'])*1e3:.2f} ms "
      f"(rootfs run {run['median']*1e3:.2f} ms - rootfs plan {plan['median']*1e3:.2f} ms, medians)")
PY

# cgctl: one cgroup's life with 5 limits and a process, by hand, next to
# the same limits in a container run by hako and by runc.
limits="--memory 64M --memory-swap 128M --pids 32 --cpus 0.5 --cpu-shares 512"
cg=/hako-bench-$$
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/cgctl.json" \
	-n cgctl "sh -c '$bin/cgctl create $cg $limits && $bin/cgctl exec $cg -- /bin/true && $bin/cgctl delete $cg'" >/dev/null
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
# An absolute cgroup: runc would put a relative one under its own cgroup.
c["linux"]["cgroupsPath"] = "/hako-bench/limits"
c["linux"]["resources"].update({"memory": {"limit": 64 << 20, "swap": 128 << 20}, "pids": {"limit": 32},
                                "cpu": {"quota": 50000, "period": 100000, "shares": 512}})
json.dump(c, open(sys.argv[1], "w"))
PY
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/limits.json" \
	-n hako "$bin/hako --root $root/hako run --bundle $work/bundle bench-hako" \
	-n runc "runc --root $root/runc run --bundle $work/bundle bench-runc" >/dev/null
python3 - "$work/cgctl.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f"bench: cgctl create + 5 limits + add a process + delete: {r['mean']*1e3:.2f} ms per cgroup (3 cgctl runs and a shell)")
PY
ratio "run /bin/true with those 5 limits" "$work/limits.json"
