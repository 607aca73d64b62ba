#!/bin/bash
# make test-v2: the privileged tests that depend on the cgroup layout, run
# again on a pure cgroup v2 kernel: ../shared/vm/vm-run.sh boots Debian's
# kernel under qemu (no KVM here: ~10x slower than native) with cgroup2 at
# /sys/fs/cgroup. Test binaries are built here, static, and run there;
# then hako itself (make build's) goes through create, exec, run, delete.
set -eu
cd "$(dirname "$0")/.."
vmrun=${VMRUN:-$(cd .. && pwd)/shared/vm/vm-run.sh}
if [ ! -x "$vmrun" ]; then
	echo "test-v2: $vmrun not found (it comes with ../shared)" >&2
	exit 1
fi
hack/setup.sh qemu-system-x86
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
pkgs=(hako.dev/cgctl)
for p in "${pkgs[@]}"; do
	CGO_ENABLED=0 go test -c -o "$work/$(basename "$p").test" "$p"
done
status=0
for p in "${pkgs[@]}"; do
	t=$(basename "$p").test
	echo "=== cgroup v2 VM: $p"
	# The verbose output is kept for a failure; a pass is summed up.
	if "$vmrun" --timeout 600 --share "$work" -- "$work/$t" -test.count=1 -test.v >"$work/$t.out" 2>&1; then
		echo "ok  	$p (cgroup v2: $(grep -c -- '--- PASS' "$work/$t.out" || true) passed, $(grep -c -- '--- SKIP' "$work/$t.out" || true) skipped)"
	else
		cat "$work/$t.out"
		echo "FAIL	$p (cgroup v2)"
		status=1
	fi
done
# The runtime itself: create, exec, run, delete (hack/runtime-v2.sh).
echo "=== cgroup v2 VM: hako"
cp bin/hako bin/mkbundle hack/runtime-v2.sh "$work/"
if "$vmrun" --host-usr --timeout 600 --share "$work" -- /bin/sh "$work/runtime-v2.sh" "$work" >"$work/runtime.out" 2>&1; then
	echo "ok  	hako (cgroup v2: $(tail -1 "$work/runtime.out"))"
else
	cat "$work/runtime.out"
	echo "FAIL	hako (cgroup v2)"
	status=1
fi
exit $status
