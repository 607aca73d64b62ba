package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// `hako script` and `hako run` on the same bundle: what the program sees
// must be the same where the script expresses the config (namespaces'
// kinds, mounts, cgroup limits, capabilities, ids, rlimits, seccomp mode,
// hostname, cwd).
func TestScriptMatchesRun(t *testing.T) {
	e := newEnv(t)
	probe := []string{"sh", "-c", `testinit caps -- ids -- rlimits -- seccomp -- hostname -- cwd
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max
		for n in cgroup ipc mnt net pid time user uts; do echo "ns $n $(readlink /proc/self/ns/$n)"; done
		testinit mounts`}
	bundle := e.bundle(probe, func(s *specs.Spec) {
		s.Hostname = "scripted"
		s.Process.Cwd = "/tmp"
		s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5}}
		s.Process.Capabilities.Ambient = nil // a non-root program without ambient caps keeps none
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 100, Hard: 200})
		lim, pids := int64(64<<20), int64(40)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &lim}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}}}
	})
	for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // uid 1000 reaches the rootfs
	}
	out, err := exec.Command(hakoBin, "script", "--id", e.id("script"), bundle).Output()
	if err != nil {
		t.Fatalf("hako script: %v", err)
	}
	script := filepath.Join(t.TempDir(), "c.sh")
	if err := os.WriteFile(script, out, 0o755); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()
	cmd := exec.Command("sh", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(hakoBin)+":"+os.Getenv("PATH"))
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the script: %v\n%s\n--- script:\n%s", err, got, out)
	}
	e.sameAs(before)
	r := e.hako("run", "--bundle", bundle, e.id("run"))
	if r.code != 0 {
		t.Fatalf("hako run: %+v", r)
	}
	if a, b := normProbe(string(got)), normProbe(r.stdout); a != b {
		t.Errorf("the script's container differs from hako run's:\n--- script\n%s\n--- run\n%s", a, b)
	}
}

// normProbe keeps what must match: namespaces as new or the host's, and
// mounts by point, type and options (not ids, devices or the tools the
// script binds in at /dev/.hako).
func normProbe(out string) string {
	var keep, mounts []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && f[0] == "ns":
			self, _ := os.Readlink("/proc/self/ns/" + f[1])
			state := "new"
			if f[2] == self {
				state = "host"
			}
			keep = append(keep, "ns "+f[1]+" "+state)
		case len(f) > 9 && strings.Contains(l, " - "):
			if strings.HasPrefix(f[4], "/dev/.hako") {
				continue
			}
			sep := 0
			for i, x := range f {
				if x == "-" {
					sep = i
				}
			}
			mounts = append(mounts, f[4]+" "+f[sep+1]+" "+f[5])
		default:
			keep = append(keep, l)
		}
	}
	sort.Strings(mounts)
	return strings.Join(append(keep, mounts...), "\n")
}

// Every tool offers shell completion (cobra's) for bash, zsh and fish.
func TestCompletion(t *testing.T) {
	dir := filepath.Dir(hakoBin)
	for _, tool := range []string{"hako", "nsrun", "cgctl", "rootfs", "capset", "seccomp", "console"} {
		for _, sh := range []string{"bash", "zsh", "fish"} {
			out, err := exec.Command(filepath.Join(dir, tool), "completion", sh).Output()
			if err != nil || !strings.Contains(string(out), tool) {
				t.Errorf("%s completion %s: %v (%d bytes)", tool, sh, err, len(out))
			}
		}
	}
}
