#!/bin/bash
# make test-oci: the OCI runtime-tools validation suite against bin/hako
# and against runc from Debian, side by side. Each validation test is a
# small program that writes a bundle (its rootfs tarball plus the
# `runtimetest` probe, both taken from its working directory), drives the
# runtime named by $RUNTIME through create/start/state/kill/delete, and
# prints TAP. Every test that runc passes here must pass with hako, but
# those in KNOWN (environment limits, each with its reason).
#
# Usage: hack/oci-validation.sh [TEST...]   (default: every test)
# Env:   OCI_VALIDATION_TIMEOUT  seconds per test and runtime (default 60)
#        HAKO                    the hako binary (default bin/hako)
#
# The binaries are built once with the Go toolchain from the module proxy
# into build/oci-validation/<version>/ and reused. Nothing of a run is
# left behind: each runtime gets its own --root (through a wrapper, since
# the tests call $RUNTIME with no global flags), each test its own TMPDIR
# for its bundles, and its own pids cgroup, so that the helper processes
# some tests start (`unshare ... sleep 10000`, in their own process
# group) are found and killed; containers are force-deleted by the ids
# the wrapper logged, and cgroups named by those ids or by the tests'
# fixed paths (/cgrouptest, testdir/cgrouptest/container) are removed.
# TAP output of each run stays in build/oci-validation/results/.
set -eu
cd "$(dirname "$0")/.."
repo=$PWD

# master of github.com/opencontainers/runtime-tools as the proxy serves it
# (v0.9.0, the last tag, is from 2019 and predates runtime-spec 1.1).
version=v0.9.1-0.20251114084447-edf4cb3d2116
timeout_s=${OCI_VALIDATION_TIMEOUT:-60}

# Tests that runc passes here and hako cannot, for a reason of this host
# and not of hako. One line each: [test]="reason". Never a hako bug.
declare -A known=(
)

if [ "$(id -u)" -ne 0 ]; then
	echo "oci-validation: must run as root" >&2
	exit 1
fi
hako=${HAKO:-$repo/bin/hako}
if [ ! -x "$hako" ]; then
	echo "oci-validation: $hako not found: run make build" >&2
	exit 1
fi
hack/setup.sh runc
runc=$(command -v runc)

# Build runtimetest and every validation program, once per version.
cache=$repo/build/oci-validation/$version
if [ ! -e "$cache/.built" ]; then
	echo "oci-validation: building runtime-tools $version"
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp/bin"
	# Outside the workspace: `go install pkg@version` builds the module
	# as its own main module, with its own go.mod and go.sum.
	(
		cd "$cache.tmp"
		export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0 GOBIN=$cache.tmp/bin
		# runtimetest runs inside the containers, on the tarball's
		# busybox rootfs: static (CGO_ENABLED=0).
		go install "github.com/opencontainers/runtime-tools/cmd/runtimetest@$version" \
			"github.com/opencontainers/runtime-tools/validation/...@$version"
		dir=$(go mod download -json "github.com/opencontainers/runtime-tools@$version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		cp "$dir/rootfs-$(go env GOARCH).tar.gz" .
		chmod 0644 rootfs-*.tar.gz
	)
	touch "$cache.tmp/.built"
	rm -rf "$cache"
	mv "$cache.tmp" "$cache"
fi

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=()
	for f in "$cache"/bin/*; do
		[ "${f##*/}" = runtimetest ] || tests+=("${f##*/}")
	done
fi
for t in "${tests[@]}"; do
	[ -x "$cache/bin/$t" ] || { echo "oci-validation: no test $t" >&2; exit 1; }
done

results=$repo/build/oci-validation/results
rm -rf "$results"
mkdir -p "$results/hako" "$results/runc"
# The work directory sits beside the cache so that the tarball and the
# probe are hard-linked into each test's working directory, not copied.
work=$(mktemp -d "$repo/build/oci-validation/run.XXXXXX")
chmod 0755 "$work"
# hako's cache of compiled seccomp profiles: the run's own, not the
# host's /run/hako-cache.
export HAKO_SECCOMP_CACHE=$work/seccomp-cache

# Each test runs in a cgroup of its own in every hierarchy (cgctl exec), so
# that its helper processes can be killed, and so that a runtime's
# containers without a cgroupsPath, which it puts under its own cgroup,
# land there and nowhere else.
testcg=/hako-oci-validation-$$

# Cgroups named like the tests' fixed paths that exist before the run are
# not ours: never removed.
preexisting=$(find /sys/fs/cgroup -name process_api -prune -o -type d \( -name cgrouptest -o -name testdir \) -print 2>/dev/null || true)

# killcg DIR: kills every process of cgroup DIR (all started by this run)
# until it is empty, then removes it.
killcg() {
	local d=$1 pid
	[ -d "$d" ] || return 0
	for _ in $(seq 50); do
		[ -s "$d/cgroup.procs" ] || break
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done <"$d/cgroup.procs"
		sleep 0.1
	done
	rmdir "$d" 2>/dev/null || echo "oci-validation: cannot remove cgroup $d" >&2
}

# killtree DIR: killcg on DIR and every cgroup below it, deepest first.
killtree() {
	local s
	while read -r s; do killcg "$s"; done < <(find "$1" -depth -type d 2>/dev/null)
}

# cleanup_run RT ROOT CALLS: force-deletes every container the run made
# (ids from the wrapper's log and from `list`), kills what is left in the
# test's cgroup, and removes the cgroups the containers and the tests
# made. A cgroup named by a container id that outlives `delete --force`
# is reported: the runtime left it behind.
cleanup_run() {
	local rt=$1 root=$2 calls=$3 bin ids id d
	bin=$hako
	[ "$rt" = runc ] && bin=$runc
	ids=$( (grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$calls" 2>/dev/null || true
		"$bin" --root "$root" list -q 2>/dev/null || true) | sort -u)
	for id in $ids; do
		"$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	done
	# Deepest first: the containers' cgroups runc made under the test's.
	for d in /sys/fs/cgroup/*"$testcg" /sys/fs/cgroup"$testcg"; do
		[ -d "$d" ] && killtree "$d"
	done
	while read -r d; do
		case "${d##*/}" in
		cgrouptest | testdir)
			grep -qxF "$d" <<<"$preexisting" || killtree "$d"
			;;
		*)
			if grep -qxF "${d##*/}" <<<"$ids"; then
				echo "oci-validation: $rt left cgroup $d after delete --force" >>"$work/leaks"
				killtree "$d"
			fi
			;;
		esac
	done < <(find /sys/fs/cgroup -name process_api -prune -o -type d -print 2>/dev/null | sort -r)
	rm -rf "$root"
}

# unmount_under DIR: a test that shares the host's mount namespace
# (linux_ns_itype: "inherit namespace mnt") has the runtime mount /proc,
# /dev and /sys over its bundle on the host; unmounted, deepest first,
# before anything under DIR is removed.
unmount_under() {
	local mp
	while read -r mp; do
		echo "oci-validation: unmounting $mp" >>"$work/mounts"
		umount -l "$mp" 2>/dev/null || true
	done < <(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

cleanup() {
	unmount_under "$work"
	for rt in hako runc; do
		[ -d "$work/$rt" ] && cleanup_run "$rt" "$work/$rt/root" "$work/$rt/calls"
	done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# tap FILE: one line per TAP point, "NUMBER STATUS DESCRIPTION" with
# STATUS ok, fail, skip or todo (a failed TODO point, which TAP does not
# count as a failure); then "plan N" if the file has a plan. Only lines at
# the start of a line count: TAP of nested runs sits in indented YAML.
# The tests that run runtimetest in a container and report it as one
# point print its output in a YAML block ("stdout") before that point and
# pass it if that output has no "not ok": a container that never ran
# runtimetest would pass. Such a point fails here unless the output
# holds a TAP point.
tap() {
	awk '
	/^  +"stdout": "/ {
		v = $0; sub(/^  +"stdout": "/, "\\n", v)
		nested = (v ~ /\\n(not )?ok [0-9]/) ? "yes" : "no"
		next
	}
	/^ok [0-9]+/ || /^not ok [0-9]+/ {
		notok = ($1 == "not")
		n = notok ? $3 : $2
		rest = $0; sub(/^(not )?ok [0-9]+ ?(- )?/, "", rest)
		st = notok ? "fail" : "ok"
		if (rest ~ /^# [Ss][Kk][Ii][Pp]/) st = "skip"
		else if (rest ~ /^# TODO/) st = notok ? "todo" : "ok"
		if (nested == "no" && st == "ok") { st = "fail"; rest = rest " [runtimetest printed no TAP]" }
		nested = ""
		print n, st, rest
		next
	}
	/^1\.\.[0-9]+/ { sub(/^1\.\./, ""); print "plan", $1 + 0 }
	/^  +"error": "[^"]/ { errors++ }
	END { print "errors", errors + 0 }
	' "$1"
}

# Tests that print nothing when they pass: they ask for a config the
# runtime must refuse, and fail (exit 1) only if it is accepted.
silent=" process_capabilities_fail process_rlimits_fail "

# verdict TEST POINTS RC STDERR: PASS, FAIL, SKIP or TIMEOUT for one run.
# Some tests (the hook ones) print no point at all: a plan of 1..0 alone
# is their pass, an "error" in a YAML block their failure.
verdict() {
	local t=$1 points=$2 rc=$3 stderr=$4
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo TIMEOUT; return; fi
	local total fails skips plan errors
	total=$(grep -c '^[0-9]' "$points" || true)
	fails=$(grep -c '^[0-9]* fail ' "$points" || true)
	skips=$(grep -c '^[0-9]* skip ' "$points" || true)
	plan=$(sed -n 's/^plan //p' "$points" | head -1)
	errors=$(sed -n 's/^errors //p' "$points")
	if [ "$total" -eq 0 ] && [ "$plan" = 0 ] && [ "$errors" -eq 0 ] && [ "$rc" = 0 ]; then
		echo PASS
	elif [[ $silent == *" $t "* ]] && [ "$total" -eq 0 ] && [ -z "$plan" ] && [ "$rc" = 0 ] &&
		grep -q '^failed to create the container' "$stderr"; then
		echo PASS
	elif [ "$total" -eq 0 ] || [ "$fails" -gt 0 ] || [ "$rc" != 0 ] ||
		{ [ -n "$plan" ] && [ "$plan" -ne "$total" ]; }; then
		echo FAIL
	elif [ "$skips" -eq "$total" ]; then
		echo SKIP
	else
		echo PASS
	fi
}

# cell RT TEST: the table cell of one run, e.g. "PASS 309", "FAIL 3/12".
cell() {
	local p=$results/$1/$2.points v total fails
	v=$(cat "$results/$1/$2.verdict")
	total=$(grep -c '^[0-9]' "$p" || true)
	fails=$(grep -c '^[0-9]* fail ' "$p" || true)
	case $v in
	PASS | SKIP) echo "$v $total" ;;
	FAIL) echo "FAIL $fails/$total rc=$(cat "$results/$1/$2.rc")" ;;
	*) echo "$v" ;;
	esac
}

# run RT TEST: one validation program against one runtime.
run() {
	local rt=$1 t=$2 bin=$hako dir=$work/$1 rc=0 start
	[ "$rt" = runc ] && bin=$runc
	rm -rf "$dir"
	mkdir -p "$dir/tmp" "$dir/cwd"
	# The wrapper logs each call, and keeps the stderr of a container
	# (a file in its bundle that the test removes) when it is deleted.
	cat >"$dir/runtime" <<-EOF
		#!/bin/sh
		echo "\$*" >>"$dir/calls"
		prev= bundle= id=
		for a; do [ "\$prev" = --bundle ] && bundle=\$a; prev=\$a; id=\$a; done
		case \$1 in
		create) [ -n "\$bundle" ] && echo "\$bundle" >"$dir/bundle.\$id" ;;
		delete) [ -f "$dir/bundle.\$id" ] && cat "\$(cat "$dir/bundle.\$id")"/stderr-* >>"$dir/container.err" 2>/dev/null ;;
		esac
		exec "$bin" --root "$dir/root" "\$@"
	EOF
	chmod 0755 "$dir/runtime"
	ln "$cache/bin/runtimetest" "$cache"/rootfs-*.tar.gz "$dir/cwd/"
	start=$(date +%s.%N)
	(
		cd "$dir/cwd"
		exec "$repo/bin/cgctl" exec "$testcg" -- env RUNTIME="$dir/runtime" TMPDIR="$dir/tmp" \
			timeout -k 5 "$timeout_s" "$cache/bin/$t"
	) >"$results/$rt/$t.tap" 2>"$results/$rt/$t.err" </dev/null || rc=$?
	echo "$rc" >"$results/$rt/$t.rc"
	echo "$start $(date +%s.%N)" | awk '{printf "%.1f\n", $2 - $1}' >"$results/$rt/$t.time"
	cp "$dir/calls" "$results/$rt/$t.calls" 2>/dev/null || true
	cp "$dir/container.err" "$results/$rt/$t.container-err" 2>/dev/null || true
	cleanup_run "$rt" "$dir/root" "$dir/calls"
	unmount_under "$dir"
	rm -rf --one-file-system "$dir"
	tap "$results/$rt/$t.tap" >"$results/$rt/$t.points"
	verdict "$t" "$results/$rt/$t.points" "$rc" "$results/$rt/$t.err" >"$results/$rt/$t.verdict"
}

began=$(date +%s)
for t in "${tests[@]}"; do
	for rt in hako runc; do
		run "$rt" "$t"
	done
	printf '.'
done
echo

# The table, then the failures that count.
regressions=()
printf '%-34s %-22s %-22s %s\n' TEST HAKO RUNC NOTE
for t in "${tests[@]}"; do
	h=$(cat "$results/hako/$t.verdict")
	r=$(cat "$results/runc/$t.verdict")
	note=""
	if [ "$r" = PASS ] && [ "$h" != PASS ]; then
		if [ -n "${known[$t]:-}" ]; then
			note="known: ${known[$t]}"
		else
			note="REGRESSION"
			regressions+=("$t")
		fi
	elif [ "$r" != PASS ] && [ "$h" = PASS ]; then
		note="hako only"
	elif [ "$r" = FAIL ] && [ "$h" = FAIL ]; then
		# Both fail: hako must still pass every point runc passes (the
		# tests' points come in a fixed order), or a hako bug could hide
		# behind what this host denies runc.
		worse=$(awk 'FNR == NR { if ($2 == "ok") ok[$1] = 1; next }
			$1 ~ /^[0-9]/ { if ($2 == "ok") delete ok[$1] }
			END { n = 0; for (p in ok) n++; print n }' \
			"$results/runc/$t.points" "$results/hako/$t.points")
		if [ "$worse" -gt 0 ]; then
			if [ -n "${known[$t]:-}" ]; then
				note="known: ${known[$t]}"
			else
				note="REGRESSION: both fail, $worse point(s) runc passes fail with hako"
				regressions+=("$t")
			fi
		fi
	fi
	printf '%-34s %-22s %-22s %s\n' "$t" "$(cell hako "$t")" "$(cell runc "$t")" "$note"
done

for t in "${regressions[@]}"; do
	echo
	echo "=== $t: runc $(cat "$results/runc/$t.verdict"), hako $(cat "$results/hako/$t.verdict") (rc $(cat "$results/hako/$t.rc"))"
	# Each point runc passes and hako fails, with the YAML blocks around
	# it (runtimetest's output comes before its point, a check's details
	# after), and the program's stderr.
	awk 'FNR == 1 { f++ }
		f == 1 { if ($2 == "ok") rok[$1] = 1; next }
		f == 2 { if ($2 == "fail" && $1 in rok) bad[$1] = 1; next }
		/^(not )?ok [0-9]+/ {
			n = ($1 == "not") ? $3 : $2
			if ((n in bad) && buf ~ /"stdout"/) printf "%s", buf
			p = (n in bad); if (p) print
			buf = ""; next
		}
		/^  / { if (p) print; else buf = buf $0 "\n"; next }
		{ p = 0; buf = "" }' "$results/runc/$t.points" "$results/hako/$t.points" "$results/hako/$t.tap" | head -80
	grep -q . "$results/hako/$t.tap" || echo "(no output; runtime calls: $(tr '\n' ';' <"$results/hako/$t.calls" 2>/dev/null))"
	if [ -s "$results/hako/$t.err" ]; then
		echo "--- stderr:"
		head -20 "$results/hako/$t.err"
	fi
	if [ -s "$results/hako/$t.container-err" ]; then
		echo "--- the containers' stderr:"
		sort "$results/hako/$t.container-err" | uniq -c | head -10
	fi
done
if [ -s "$work/leaks" ] || [ -s "$work/mounts" ]; then
	echo
	cat "$work/leaks" "$work/mounts" 2>/dev/null | sed "s#$work/##"
fi

echo
echo "oci-validation: runtime-tools $version, ${#tests[@]} tests, $(($(date +%s) - began)) s; TAP output in ${results#"$repo"/}/"
# hako's line last: it is the closing line a reader of the log takes.
for rt in runc hako; do
	p=0 f=0 s=0
	for t in "${tests[@]}"; do
		case $(cat "$results/$rt/$t.verdict") in
		PASS) p=$((p + 1)) ;;
		SKIP) s=$((s + 1)) ;;
		*) f=$((f + 1)) ;;
		esac
	done
	echo "$rt: $p passed, $f failed, $s skipped"
done
if [ ${#regressions[@]} -gt 0 ]; then
	echo "oci-validation: ${#regressions[@]} test(s) where hako fails what runc passes: ${regressions[*]}" >&2
	exit 1
fi
