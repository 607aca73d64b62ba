#!/bin/bash
# make bench: the cost of a container's whole life (create, start, wait,
# delete: `run` of busybox true), hako side by side with runc and crun from
# Debian, measured with hyperfine. The machine is noisy: read the ratios.
set -eu
cd "$(dirname "$0")/.."
hack/setup.sh runc crun hyperfine
bin=$PWD/bin
work=$(mktemp -d)
root=$work/state
cleanup() {
	for rt in hako runc crun; do
		for id in $("$rt" --root "$root/$rt" list -q 2>/dev/null || true); do
			"$rt" --root "$root/$rt" delete --force "$id" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$work"
}
trap cleanup EXIT
"$bin/mkbundle" "$work/bundle" -- /bin/true

cmds=(-n hako "$bin/hako --root $root/hako run --bundle $work/bundle bench-hako")
cmds+=(-n runc "runc --root $root/runc run --bundle $work/bundle bench-runc")
# crun refuses a hybrid host whose cgroup2 mount still holds a controller
# (here: hugetlb); it is left out there rather than the host changed.
if crun --root "$root/crun" run --bundle "$work/bundle" bench-crun-probe >/dev/null 2>&1; then
	cmds+=(-n crun "crun --root $root/crun run --bundle $work/bundle bench-crun")
else
	echo "bench: crun cannot run on this cgroup layout (cgroup2 holds a controller); comparing with runc only"
fi
hyperfine -N --warmup 5 --runs "${BENCH_RUNS:-50}" --export-json "$work/run.json" "${cmds[@]}"
python3 - "$work/run.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
h = r["hako"]["mean"]
for name, x in r.items():
    if name != "hako":
        print(f"bench: run /bin/true: hako/{name} = {h / x['mean']:.2f} (mean {h*1e3:.1f} ms vs {x['mean']*1e3:.1f} ms)")
PY
