package cgctl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These run on the host's real cgroups (hybrid here; pure v2 in the VM,
// see the Makefile's test-v2). Each test makes its own cgroup under
// /hako-test and removes it, processes first, also when it fails.

func realManager(t *testing.T) Manager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	m, err := New(Config{Path: fmt.Sprintf("/hako-test/%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), os.Getpid())})
	if err != nil {
		t.Skipf("no cgroups here: %v", err)
	}
	t.Cleanup(func() {
		m.Kill(unix.SIGKILL)
		if err := m.Destroy(); err != nil {
			t.Errorf("destroy: %v", err)
		}
		for _, h := range m.Hierarchies() {
			os.Remove(h.Dir + "/hako-test") // shared parent: gone once the last test leaves
			if _, err := os.Stat(h.Dir + m.Path()); err == nil {
				t.Errorf("%s%s left behind", h.Dir, m.Path())
			}
		}
	})
	return m
}

// gated starts sh -c script, held before it runs until release() is
// called, so it can be put in the cgroup first.
func gated(t *testing.T, script string) (cmd *exec.Cmd, release func(), out *strings.Builder) {
	t.Helper()
	cmd = exec.Command("sh", "-c", "read go; "+script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, func() { io.WriteString(in, "go\n"); in.Close() }, out
}

// startIn runs sh -c script inside the cgroup of m from its first
// instruction.
func startIn(t *testing.T, m Manager, script string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd, release, out := gated(t, script)
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	release()
	return cmd, out
}

// TestPrivEntry: a process cloned into the unified cgroup and writing "0"
// to each v1 tasks file is in the cgroup in every hierarchy.
func TestPrivEntry(t *testing.T) {
	m := realManager(t)
	e, err := m.Entry()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	script := ""
	for _, f := range e.Tasks {
		script += "echo 0 > " + f + " && "
	}
	cmd := exec.Command("sh", "-c", script+"cat /proc/self/cgroup")
	if e.Unified != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(e.Unified.Fd())}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(m.Hierarchies()) {
		t.Errorf("%d hierarchies, /proc/self/cgroup:\n%s", len(m.Hierarchies()), out)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, ":"+m.Path()) {
			t.Errorf("not in %s: %s", m.Path(), l)
		}
	}
}

// TestPrivEntryCpuset: a v1 cpuset cgroup takes tasks whichever way it
// was made: its parent missing (made on the way down), its parent there
// (the cgroup alone), already there (an exec's entry), or already there
// but left empty by another.
func TestPrivEntryCpuset(t *testing.T) {
	m := realManager(t) // the parent: made by none of the below first
	top, h, ok := m.(*manager).dir("cpuset")
	if !ok || h.Unified {
		t.Skip("no v1 cpuset hierarchy here: nothing to copy down (v2 cpusets inherit)")
	}
	hroot := top[:len(top)-len(m.Path())]
	child := func(name string) (Manager, string) {
		t.Helper()
		c, err := New(Config{Path: m.Path() + "/" + name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := c.Destroy(); err != nil {
				t.Errorf("destroy: %v", err)
			}
		})
		dir, _, _ := c.(*manager).dir("cpuset")
		return c, dir
	}
	enter := func(c Manager, dir string) {
		t.Helper()
		e, err := c.Entry()
		if err != nil {
			t.Fatal(err)
		}
		e.Close()
		for _, d := range []string{dir, top} {
			for _, f := range cpusetFiles {
				got, err := os.ReadFile(filepath.Join(d, f))
				if err != nil {
					t.Fatal(err)
				}
				root, _ := os.ReadFile(filepath.Join(hroot, f))
				if len(bytes.TrimSpace(got)) == 0 || !bytes.Equal(got, root) {
					t.Errorf("%s/%s = %q, want the root's %q", d, f, got, root)
				}
			}
		}
		// A process gets in (an empty cpuset refuses it: ENOSPC).
		if out, err := exec.Command("sh", "-c", "echo 0 > "+filepath.Join(dir, "tasks")).CombinedOutput(); err != nil {
			t.Errorf("join %s: %v: %s", dir, err, out)
		}
	}
	a, adir := child("a")
	enter(a, adir) // the parent missing
	enter(a, adir) // there: an exec's entry
	b, bdir := child("b")
	enter(b, bdir) // its parent there
	c, cdir := child("c")
	if err := os.Mkdir(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range cpusetFiles { // empty whatever clone_children says
		if err := os.WriteFile(filepath.Join(cdir, f), []byte("\n"), 0); err != nil {
			t.Fatal(err)
		}
	}
	enter(c, cdir) // there, but empty
}

func TestPrivPidsLimit(t *testing.T) {
	m := realManager(t)
	cmd, release, out := gated(t, "for i in 1 2 3 4 5 6 7 8; do sleep 0.3 & done; wait")
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	limit := int64(4)
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}); err != nil {
		t.Fatal(err)
	}
	release()
	cmd.Wait()
	if !strings.Contains(strings.ToLower(out.String()), "fork") {
		t.Errorf("forks past pids.max=4 did not fail with EAGAIN: %q", out.String())
	}
	st, err := m.Stats()
	if err != nil || st.Pids.Limit != 4 {
		t.Errorf("Stats().Pids = %+v, %v", st.Pids, err)
	}
}

func TestPrivMemoryOOMKill(t *testing.T) {
	m := realManager(t)
	// tail keeps the whole of an endless line in memory.
	cmd, release, _ := gated(t, "exec tail /dev/zero")
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	limit, swap := int64(16<<20), int64(16<<20)
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}}
	if err := m.Set(r); err != nil && errors.Is(err, os.ErrNotExist) {
		// no swap accounting: limit memory alone
		r.Memory.Swap = nil
		err = m.Set(r)
	} else if err != nil {
		t.Fatal(err)
	}
	release()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("tail /dev/zero under a 16M limit ended with %v, want SIGKILL", err)
	}
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Memory.OOMKill == 0 || st.Memory.Usage.Limit != 16<<20 {
		t.Errorf("memory stats after the OOM kill: oom_kill %d, limit %d", st.Memory.OOMKill, st.Memory.Usage.Limit)
	}
}

func cpuTicks(t *testing.T, pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b)[strings.LastIndexByte(string(b), ')')+2:])
	u, _ := strconv.ParseUint(f[11], 10, 64)
	s, _ := strconv.ParseUint(f[12], 10, 64)
	return u + s
}

func TestPrivFreezeThaw(t *testing.T) {
	m := realManager(t)
	cmd, _ := startIn(t, m, "while :; do :; done")
	time.Sleep(100 * time.Millisecond)
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if frozen, err := m.Frozen(); err != nil || !frozen {
		t.Fatalf("Frozen() = %v, %v after Freeze", frozen, err)
	}
	before := cpuTicks(t, cmd.Process.Pid)
	time.Sleep(300 * time.Millisecond)
	if after := cpuTicks(t, cmd.Process.Pid); after != before {
		t.Errorf("busy loop ran while frozen: %d -> %d ticks", before, after)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if frozen, _ := m.Frozen(); frozen {
		t.Error("still frozen after Thaw")
	}
	before = cpuTicks(t, cmd.Process.Pid)
	time.Sleep(300 * time.Millisecond)
	if after := cpuTicks(t, cmd.Process.Pid); after == before {
		t.Error("busy loop did not resume after Thaw")
	}
}

func TestPrivKillEmptiesCgroup(t *testing.T) {
	for _, sig := range []unix.Signal{unix.SIGKILL, unix.SIGTERM} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			m := realManager(t)
			cmd, release, _ := gated(t, "sleep 60 & sleep 60 & sleep 60")
			if err := m.Apply(cmd.Process.Pid); err != nil {
				t.Fatal(err)
			}
			release()
			for i := 0; i < 100; i++ {
				if p, _ := m.Pids(); len(p) == 4 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := m.Kill(sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			deadline := time.Now().Add(5 * time.Second)
			for {
				p, err := m.Pids()
				if err == nil && len(p) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("cgroup still holds %v after Kill(%v)", p, sig)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestPrivSetRefusalIsClear(t *testing.T) {
	m := realManager(t)
	startIn(t, m, "exec sleep 60")
	// No machine has cpu 4095: the kernel refuses, and the error says
	// what was written where.
	err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "4095"}})
	if err == nil || !strings.Contains(err.Error(), `write "4095" to `) || !strings.Contains(err.Error(), "cpuset.cpus") {
		t.Errorf("kernel refusal not reported with the file and value: %v", err)
	}
}

// Raising memory and memory+swap together: v1 wants memsw raised first;
// an update in either direction just works.
func TestPrivMemoryUpdateOrder(t *testing.T) {
	m := realManager(t)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	set := func(limit, swap int64) error {
		return m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap}})
	}
	if err := set(64<<20, 128<<20); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			t.Skip("no swap accounting on this kernel")
		}
		t.Fatal(err)
	}
	if err := set(256<<20, 512<<20); err != nil {
		t.Errorf("raise both: %v", err)
	}
	if err := set(32<<20, 64<<20); err != nil {
		t.Errorf("lower both: %v", err)
	}
}

// The cgroup2 device filter (an eBPF program): what it allows opens, what
// it does not is refused; a hundred updates leave exactly one program.
// On a hybrid host the cgroup2 part of the cgroup takes the program too,
// and the kernel enforces it alongside the v1 devices controller.
func TestPrivDeviceFilterBPF(t *testing.T) {
	m := realManager(t)
	dir, _, ok := m.(*manager).unified()
	if !ok {
		t.Skip("no cgroup2 hierarchy")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	i64 := func(v int64) *int64 { return &v }
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}, // /dev/null
		{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "r"},   // /dev/urandom, read only
	}
	for i := 0; i < 100; i++ {
		if err := setDevicesBPF(dir, rules); err != nil {
			if errors.Is(err, unix.EPERM) {
				t.Skipf("kernel refuses cgroup device programs: %v", err)
			}
			t.Fatal(err)
		}
	}
	// Other shapes the verifier must take: one unconditional rule (a
	// privileged container), only conditional ones (default deny at the end).
	for _, rs := range [][]specs.LinuxDeviceCgroup{
		{{Allow: true, Access: "rwm"}},
		{{Allow: false, Type: "c", Major: i64(1), Minor: i64(3), Access: "w"}},
		{{Allow: true, Type: "b", Access: "m"}, {Allow: false, Type: "c", Major: i64(5), Access: "rw"}},
	} {
		if err := setDevicesBPF(dir, rs); err != nil {
			t.Errorf("rules %+v: %v", rs, err)
		}
	}
	if err := setDevicesBPF(dir, rules); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	q, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil || len(q.Programs) != 1 {
		t.Fatalf("programs attached after 100 updates: %v, %v", q, err)
	}
	cmd, release, out := gated(t, "cat /dev/null && echo null-ok; head -c1 /dev/urandom >/dev/null && echo urandom-read-ok; "+
		"(echo x >/dev/urandom) 2>/dev/null || echo urandom-write-denied; head -c1 /dev/zero >/dev/null 2>&1 || echo zero-denied")
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	release()
	cmd.Wait()
	want := "null-ok\nurandom-read-ok\nurandom-write-denied\nzero-denied\n"
	if out.String() != want {
		t.Errorf("device access under the filter:\n%s\nwant\n%s", out.String(), want)
	}
}

// Lowering the memory limit under what the cgroup holds and cannot give
// back (shmem, no swap): v1 refuses, and the error says so with the file
// and value. v2 accepts any value and reclaims or OOM-kills instead, which
// checkBeforeUpdate guards against.
func TestPrivLowerMemoryBelowUsage(t *testing.T) {
	m := realManager(t)
	shm := fmt.Sprintf("/dev/shm/hako-test-%d", os.Getpid())
	t.Cleanup(func() { os.Remove(shm) })
	cmd, release, _ := gated(t, "head -c 20971520 /dev/zero >"+shm+"; exec sleep 60")
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// A first limit: on v2 this is what enables the memory controller for
	// the cgroup, so that the shmem below is charged to it.
	high := int64(1 << 30)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &high}}); err != nil {
		t.Fatal(err)
	}
	release()
	for i := 0; i < 200; i++ {
		if st, err := os.Stat(shm); err == nil && st.Size() == 20<<20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	low, yes := int64(4<<20), true
	if m.Mode() != Unified {
		err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &low}})
		if err == nil || !strings.Contains(err.Error(), `write "4194304" to `) || !errors.Is(err, unix.EBUSY) {
			t.Errorf("v1 limit under usage: %v", err)
		}
	}
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &low, CheckBeforeUpdate: &yes}})
	if err == nil || !strings.Contains(err.Error(), "below current usage") {
		t.Errorf("checkBeforeUpdate: %v", err)
	}
}

// hugetlb lives on this hybrid host's cgroup2: the controller is enabled
// down the path before its file is written (on pure v2 the same).
func TestPrivHugetlbLimit(t *testing.T) {
	m := realManager(t)
	dir, h, ok := m.(*manager).dir("hugetlb")
	if !ok {
		t.Skip("no hugetlb controller")
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}); err != nil {
		t.Fatal(err)
	}
	file := "hugetlb.2MB.limit_in_bytes"
	if h.Unified {
		file = "hugetlb.2MB.max"
	}
	if v, err := readTrim(dir + "/" + file); err != nil || v != "4194304" {
		t.Errorf("%s/%s = %q, %v", dir, file, v, err)
	}
}

// Kill of a frozen cgroup leaves it frozen: the signal waits for the thaw.
func TestPrivKillFrozenStaysFrozen(t *testing.T) {
	m := realManager(t)
	cmd, _ := startIn(t, m, "trap 'exit 7' TERM; while :; do sleep 0.05; done")
	time.Sleep(100 * time.Millisecond)
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if f, _ := m.Frozen(); !f {
		t.Fatal("Kill thawed a frozen cgroup")
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("after thaw the pending SIGTERM should end it with 7: %v", err)
	}
}
