package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/integration/fixture"
)

// Binaries under test, built once by TestMain (or taken from
// HAKO_BIN_DIR, where `make` already built them).
var (
	hakoBin    string
	nsrunBin   string
	cgctlBin   string
	capsetBin  string
	seccompBin string
	probeBin   string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root: skipped")
		return 0
	}
	// hako's cache of compiled seccomp profiles: the tests' own, not the
	// host's /run/hako-cache.
	cache, err := os.MkdirTemp("", "hako-seccomp-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(cache)
	os.Setenv("HAKO_SECCOMP_CACHE", filepath.Join(cache, "seccomp"))
	dir := os.Getenv("HAKO_BIN_DIR")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "hako-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dir = tmp
		for _, b := range []struct{ pkg, out, cgo string }{
			{"hako.dev/cmd/hako", "hako", "1"}, // carries the C pre-init stage
			{"hako.dev/cmd/nsrun", "nsrun", "1"},
			{"hako.dev/cmd/cgctl", "cgctl", "0"},
			{"hako.dev/cmd/capset", "capset", "0"},
			{"hako.dev/cmd/rootfs", "rootfs", "0"},
			{"hako.dev/cmd/console", "console", "0"},
			{"hako.dev/cmd/seccomp", "seccomp", "1"},
			{"./testinit", "testinit", "0"}, // static: runs inside containers
		} {
			pkg := b.pkg
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
			if b, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
				return 1
			}
		}
	}
	hakoBin, nsrunBin, probeBin = filepath.Join(dir, "hako"), filepath.Join(dir, "nsrun"), filepath.Join(dir, "testinit")
	cgctlBin, capsetBin, seccompBin = filepath.Join(dir, "cgctl"), filepath.Join(dir, "capset"), filepath.Join(dir, "seccomp")
	if _, err := os.Stat(fixture.Busybox); err != nil {
		fmt.Fprintf(os.Stderr, "%s missing: run `make setup` (apt-get install busybox-static)\n", fixture.Busybox)
		return 1
	}
	return m.Run()
}

var seq atomic.Int64

// env is one test's world: its own --root, bundles and container ids, and
// a check at the end that none of it is left on the host.
type env struct {
	t      *testing.T
	root   string
	prefix string // every container id of this test starts with it
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{
		t:      t,
		root:   t.TempDir(),
		prefix: fmt.Sprintf("it%d-%d", os.Getpid(), seq.Add(1)),
	}
	t.Cleanup(e.cleanup)
	return e
}

func (e *env) id(name string) string { return e.prefix + "-" + name }

// cleanup force-deletes whatever the test left, then fails the test if
// anything of it remains: state dirs, cgroups, mounts.
func (e *env) cleanup() {
	ents, _ := os.ReadDir(e.root)
	for _, ent := range ents {
		e.hako("delete", "--force", ent.Name())
	}
	for _, l := range e.leftovers() {
		e.t.Errorf("left behind: %s", l)
	}
}

// leftovers lists what belongs to this test and still exists.
func (e *env) leftovers() []string {
	var out []string
	ents, _ := os.ReadDir(e.root)
	for _, ent := range ents {
		out = append(out, "state dir "+filepath.Join(e.root, ent.Name()))
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/hako/" + e.prefix + "-*")
	out = append(out, cgs...)
	cgs, _ = filepath.Glob("/sys/fs/cgroup/hako/" + e.prefix + "-*")
	out = append(out, cgs...)
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, e.prefix) || strings.Contains(l, e.t.Name()) {
			out = append(out, "mount "+l)
		}
	}
	return out
}

// runBin runs one of the step CLIs (not hako) and collects its output.
func runBin(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// withoutPidNS drops the pid namespace from a config: the container then
// shares the host's, and its init's death ends nothing else.
func withoutPidNS(s *specs.Spec) {
	var ns []specs.LinuxNamespace
	for _, n := range s.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	s.Linux.Namespaces = ns
}

type result struct {
	stdout, stderr string
	code           int
}

func (e *env) hako(args ...string) result {
	return e.hakoCtx(context.Background(), args...)
}

func (e *env) hakoCtx(ctx context.Context, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hakoBin, append([]string{"--root", e.root}, args...)...)
	// Files, not buffers: a created container's init inherits hako's
	// stdio and keeps it open, so a pipe would never reach EOF.
	out, errf := e.tempFile(), e.tempFile()
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("hako %v: %v", args, err)
	}
	return result{readAll(e.t, out), readAll(e.t, errf), code}
}

func (e *env) tempFile() *os.File {
	f, err := os.CreateTemp(e.t.TempDir(), "out")
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func readAll(t *testing.T, f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustHako runs hako and fails the test unless it exits 0.
func (e *env) mustHako(args ...string) string {
	e.t.Helper()
	r := e.hako(args...)
	if r.code != 0 {
		e.t.Fatalf("hako %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// bundle builds a busybox+probe bundle running args; edit, if given,
// changes the config before it is written.
func (e *env) bundle(args []string, edit func(*specs.Spec)) string {
	e.t.Helper()
	dir := e.t.TempDir()
	spec, err := fixture.Build(dir, fixture.Options{Probe: probeBin, Args: args})
	if err != nil {
		e.t.Fatal(err)
	}
	if edit != nil {
		edit(spec)
		if err := fixture.Write(dir, spec); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// waitStatus polls `hako state` until the container reaches want.
func (e *env) waitStatus(id, want string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.hako("state", id)
		var st runcState
		if r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Status == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("container %s: status %q, want %q", id, st.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
