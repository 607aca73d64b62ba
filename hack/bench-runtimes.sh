#!/bin/bash
# bench-runtimes.sh BINDIR WORK RUNTIME... : the container runtimes side by
# side on one busybox bundle, with hyperfine (interleaved: rounds of a
# few runs per runtime, each after a warm-up), printing one table of
# medians and the ratios of the first runtime (hako) to each other. Run
# by hack/bench.sh here (hako, runc, and crun where the host's cgroup
# layout lets it) and in the cgroup v2 VM (hako, runc, crun). A runtime
# is a command name or path; hako's is BINDIR/hako. Everything it makes
# is removed at exit.
#
#   run        `run` of /bin/true: create + start + wait + delete
#   3 cmds     create, start, delete -f as three commands (in one sh)
#   exec       `exec /bin/true` into a running container (a probe's path)
#   … seccomp  run and exec again with podman's default seccomp profile
#              (skipped where /usr/share/containers/seccomp.json is missing)
#   50 || run  50 containers created, then started, then deleted, each
#              step 50 commands at once: the whole wall time, once
#   init RSS   VmHWM of the container's init while it waits for start,
#              and the memory its cgroup is charged for then
#   size       the runtime's binary
#   tight      a run under 4 MiB of memory and 5 pids: ok or FAILED
set -eu
bin=$1 work=$2
shift 2
runtimes=("$@")
runs=${BENCH_RUNS:-30}
# The runtimes' state on a tmpfs, as under /run where Docker, containerd
# and podman keep it. (Here / is an ext4 without a journal, which skips
# every inode freed in the last minutes when it allocates one: under a
# benchmark's churn each new file in a state dir cost milliseconds.)
root=$work/state
mkdir -p "$root"
# hako's cache of compiled seccomp profiles: the bench's own (the first
# container with a profile compiles it, as on a host).
export HAKO_SECCOMP_CACHE=$work/seccomp-cache
mountpoint -q "$root" || mount -t tmpfs -o mode=0711 hako-bench-state "$root"
path() { if [ "$1" = hako ]; then echo "$bin/hako"; else command -v "$1"; fi; }
# Every runtime's binary in the page cache as a first run of an installed
# one finds it: written out, dropped, read again. hako's is freshly linked
# here, its cache as the linker's writes (and the machine's memory then)
# left it: two builds of the same code measured 7.89 and 7.55 ms per run
# side by side until both were read again this way, then alike;
# installed binaries were read from disk long before.
python3 - $(for rt in "${runtimes[@]}"; do path "$rt"; done) <<'PY'
import os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    while os.read(fd, 1 << 20):
        pass
    os.close(fd)
PY
cleanup() {
	for rt in "${runtimes[@]}"; do
		for id in $("$(path "$rt")" --root "$root/$rt" list -q 2>/dev/null || true); do
			"$(path "$rt")" --root "$root/$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	rmdir /sys/fs/cgroup/*/hako-bench /sys/fs/cgroup/hako-bench 2>/dev/null || true
	umount "$root" 2>/dev/null || true
}
trap cleanup EXIT
[ -d "$work/true" ] || "$bin/mkbundle" "$work/true" -- /bin/true >/dev/null
[ -d "$work/sleep" ] || "$bin/mkbundle" "$work/sleep" -- /bin/sleep 3600 >/dev/null
# bundle NAME TEMPLATE: a bundle of its own (config only, the template's
# rootfs by absolute path) whose cgroup is /hako-bench/NAME. Every
# container gets one: runc and crun would otherwise put a container
# without a cgroupsPath under their own cgroup, and 50 at once need 50.
# crun 1.8 (Debian 12) knows spec versions up to 1.0.2: the configs say
# so (nothing in them needs more).
bundle() {
	mkdir -p "$work/b/$1"
	python3 - "$work/$2" "$work/b/$1" "/hako-bench/$1" <<'PY'
import json, sys
t, d, cg = sys.argv[1:]
c = json.load(open(t + "/config.json"))
c["ociVersion"] = "1.0.2"
c["root"]["path"] = t + "/rootfs"
c["linux"]["cgroupsPath"] = cg
json.dump(c, open(d + "/config.json", "w"))
PY
	echo "$work/b/$1"
}

names=() cmds=() # the runtimes' commands to measure side by side
add() { names+=("$1"); cmds+=("$2"); }
json=$work/bench-$$
# Interleaved: hyperfine (1.15) makes one command's runs, then the next
# one's, so a drift of this noisy machine's speed would favour whichever
# came first. The runs are made in rounds of a few per command, each round
# in another order (rotated), and the medians taken over all of them.
rounds=${BENCH_ROUNDS:-6}
measure() { # measure TITLE: run the accumulated commands, keep the medians
	local n=${#names[@]} per=$(((runs + rounds - 1) / rounds)) r i k
	rm -f "$json".*.json
	for ((r = 0; r < rounds; r++)); do
		local order=()
		for ((i = 0; i < n; i++)); do
			k=$(((i + r) % n))
			order+=(-n "${names[k]}" "${cmds[k]}")
		done
		hyperfine -N --warmup 1 --runs "$per" --export-json "$json.$r.json" "${order[@]}" >/dev/null 2>&1
	done
	python3 - "$1" "$json".*.json >>"$work/table" <<'PY'
import json, statistics, sys
times = {}
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
for name, t in times.items():
    print(f"{sys.argv[1]}\t{name}\t{statistics.median(t)*1e3:.2f}")
PY
	names=() cmds=()
}
: >"$work/table"

for rt in "${runtimes[@]}"; do add "$rt" "$(path "$rt") --root $root/$rt run --bundle $(bundle r-$rt true) b-$rt"; done
measure "run (ms)"
for rt in "${runtimes[@]}"; do
	p=$(path "$rt") r=$root/$rt b=$(bundle c-$rt true)
	add "$rt" "sh -c '$p --root $r create --bundle $b c-$rt && $p --root $r start c-$rt && $p --root $r delete -f c-$rt'"
done
measure "create+start+delete (ms)"
for rt in "${runtimes[@]}"; do
	"$(path "$rt")" --root "$root/$rt" run -d --bundle "$(bundle e-$rt sleep)" e-$rt >/dev/null
	add "$rt" "$(path "$rt") --root $root/$rt exec e-$rt /bin/true"
done
measure "exec (ms)"
# The same two with a container engine's default seccomp profile
# (podman's, from containers-common), as every container of Docker,
# containerd and podman has one: compiling it takes libseccomp longer
# than the rest of a start.
profile=/usr/share/containers/seccomp.json
if [ -r "$profile" ]; then
	# withProfile BUNDLE: the profile in its config, as podman turns its
	# file into the OCI form (the rules for this machine's architecture and
	# for the capabilities the container has).
	withProfile() {
		python3 - "$1/config.json" "$profile" <<'PY'
import json, sys
cfgPath, profPath = sys.argv[1:]
c, p = json.load(open(cfgPath)), json.load(open(profPath))
caps = set(c["process"].get("capabilities", {}).get("bounding", []))
rules = []
for r in p["syscalls"]:
    inc, exc = r.get("includes", {}), r.get("excludes", {})
    if inc.get("arches") and "amd64" not in inc["arches"]: continue
    if exc.get("arches") and "amd64" in exc["arches"]: continue
    if not set(inc.get("caps", [])) <= caps: continue
    if set(exc.get("caps", [])) & caps: continue
    rules.append({k: r[k] for k in ("names", "action", "args", "errnoRet") if r.get(k) is not None})
c["linux"]["seccomp"] = {"defaultAction": p["defaultAction"], "defaultErrnoRet": p.get("defaultErrnoRet", 1),
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": rules}
json.dump(c, open(cfgPath, "w"))
PY
	}
	for rt in "${runtimes[@]}"; do
		b=$(bundle s-$rt true)
		withProfile "$b"
		add "$rt" "$(path "$rt") --root $root/$rt run --bundle $b s-$rt"
	done
	measure "run, seccomp profile (ms)"
	for rt in "${runtimes[@]}"; do
		b=$(bundle se-$rt sleep)
		withProfile "$b"
		"$(path "$rt")" --root "$root/$rt" run -d --bundle "$b" se-$rt >/dev/null
		add "$rt" "$(path "$rt") --root $root/$rt exec se-$rt /bin/true"
	done
	measure "exec, seccomp profile (ms)"
fi
for rt in "${runtimes[@]}"; do
	p=$(path "$rt") r=$root/$rt
	for i in $(seq 50); do bundle p$i-$rt true >/dev/null; done
	start=$(date +%s%N)
	for i in $(seq 50); do "$p" --root "$r" create --bundle "$work/b/p$i-$rt" p$i-$rt >/dev/null 2>&1 & done
	wait
	for i in $(seq 50); do "$p" --root "$r" start p$i-$rt >/dev/null 2>&1 & done
	wait
	ok=$("$p" --root "$r" list -q 2>/dev/null | grep -c "^p[0-9]*-$rt$" || true)
	for i in $(seq 50); do "$p" --root "$r" delete -f p$i-$rt >/dev/null 2>&1 & done
	wait
	end=$(date +%s%N)
	echo -e "50 || run (ms, $ok/50 made)\t$rt\t$(((end - start) / 1000000))" >>"$work/table"
done
for rt in "${runtimes[@]}"; do
	p=$(path "$rt") r=$root/$rt
	"$p" --root "$r" create --bundle "$(bundle m-$rt true)" m-$rt
	pid=$("$p" --root "$r" state m-$rt | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	hwm=$(awk '/^VmHWM/ {print $2}' /proc/"$pid"/status)
	echo -e "init RSS peak (MB)\t$rt\t$(echo "scale=2; $hwm/1024" | bc)" >>"$work/table"
	# What of it the container's cgroup pays (the binary's page cache is
	# the host's, already in memory): v1 memory.usage_in_bytes, v2
	# memory.current.
	for f in /sys/fs/cgroup/memory/hako-bench/m-$rt/memory.usage_in_bytes /sys/fs/cgroup/hako-bench/m-$rt/memory.current; do
		[ -r "$f" ] && echo -e "init charged to cgroup (MB)\t$rt\t$(echo "scale=2; $(cat "$f")/1048576" | bc)" >>"$work/table"
	done
	"$p" --root "$r" delete -f m-$rt
	# The peak RSS of run's whole process tree (GNU time: the largest of
	# the runtime and the processes it waited for).
	kb=$(/usr/bin/time -f %M "$p" --root "$r" run --bundle "$(bundle t-$rt true)" t-$rt 2>&1 >/dev/null | tail -1)
	echo -e "run peak RSS (MB)\t$rt\t$(echo "scale=2; $kb/1024" | bc)" >>"$work/table"
	echo -e "binary (MB)\t$rt\t$(echo "scale=2; $(stat -L -c %s "$p")/1048576" | bc)" >>"$work/table"
done

# Tight limits (issue 9): a run of `true` under 4 MiB of memory (no swap)
# and 5 pids, which the runtime's init is charged against.
tight=""
for rt in "${runtimes[@]}"; do
	b=$(bundle l-$rt true)
	python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["linux"].setdefault("resources", {}).update({"memory": {"limit": 4 << 20, "swap": 4 << 20}, "pids": {"limit": 5}})
json.dump(c, open(sys.argv[1], "w"))
PY
	if "$(path "$rt")" --root "$root/$rt" run --bundle "$b" l-$rt >/dev/null 2>&1; then
		tight+=" $rt ok;"
	else
		tight+=" $rt FAILED;"
		"$(path "$rt")" --root "$root/$rt" delete -f l-$rt >/dev/null 2>&1 || true
	fi
done

python3 - "$work/table" "${runtimes[@]}" <<'PY'
import sys, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    what, rt, v = line.rstrip("\n").split("\t")
    rows.setdefault(what, {})[rt] = float(v)
rts = sys.argv[2:]
head = f"{'':28}" + "".join(f"{rt:>10}" for rt in rts) + "".join(f"{rts[0]+'/'+rt:>12}" for rt in rts[1:])
print(head)
for what, vals in rows.items():
    line = f"{what:28}" + "".join(f"{vals.get(rt, float('nan')):>10.2f}" for rt in rts)
    for rt in rts[1:]:
        a, b = vals.get(rts[0]), vals.get(rt)
        line += f"{(a / b if a and b else float('nan')):>12.2f}"
    print(line)
PY
echo "run under memory 4M (no swap) and pids 5:${tight%;}"
