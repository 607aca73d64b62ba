package nsenter_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hako.dev/nsenter"
	_ "hako.dev/nsenter/preinit"
)

const helperEnv = "NSENTER_TEST_HELPER"

// The test binary re-executed through the pre-init stage (imported above)
// reports what it finds itself in, as key=value lines, and exits.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		report()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func report() {
	for _, k := range nsenter.Kinds {
		l, _ := os.Readlink("/proc/self/ns/" + string(k))
		fmt.Printf("ns.%s=%s\n", k, l)
	}
	fmt.Printf("pid=%d\nuid=%d\n", os.Getpid(), os.Getuid())
	for _, f := range []string{"uptime", "self/uid_map", "self/gid_map", "self/cgroup", "self/oom_score_adj", "sys/kernel/hostname"} {
		b, _ := os.ReadFile("/proc/" + f)
		fmt.Printf("%s=%s\n", f, strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", "|"))
	}
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// enter runs the helper through nsenter with r and returns its report.
func enter(t *testing.T, r *nsenter.Request) (map[string]string, error) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	pid, err := nsenter.Start(cmd, r)
	if err != nil {
		return nil, err
	}
	p, _ := os.FindProcess(pid)
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("helper: %v %v", st, err)
	}
	b, _ := os.ReadFile(out.Name())
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m, nil
}

func self(k nsenter.Kind) string {
	l, _ := os.Readlink("/proc/self/ns/" + string(k))
	return l
}

func TestCreateEachKind(t *testing.T) {
	needRoot(t)
	for _, k := range nsenter.Kinds {
		t.Run(string(k), func(t *testing.T) {
			got, err := enter(t, &nsenter.Request{New: []nsenter.Kind{k}})
			if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
				t.Skipf("kernel refuses a new %s namespace: %v", k, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, other := range nsenter.Kinds {
				same := got["ns."+string(other)] == self(other)
				if other == k && same {
					t.Errorf("%s namespace not new: %s", k, got["ns."+string(k)])
				}
				// A new user namespace owns nothing else; everything else stays.
				if other != k && !same {
					t.Errorf("creating %s changed the %s namespace", k, other)
				}
			}
		})
	}
}

// A request that only creates namespaces and names its program takes the
// direct path (one clone, no pre-init stage); what the program sees is
// the same as through the C stage.
func TestDirectPathSameAsStage(t *testing.T) {
	needRoot(t)
	// The program is exec'd, by a uid of a user namespace too: a copy of
	// this test binary where any uid reaches it.
	dir, err := os.MkdirTemp("", "nsenter-direct-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "helper")
	b, err := os.ReadFile(os.Args[0])
	if err == nil {
		err = os.WriteFile(bin, b, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    nsenter.Request
	}{
		{"mnt,uts,ipc,net,cgroup", nsenter.Request{New: []nsenter.Kind{nsenter.Mount, nsenter.UTS, nsenter.IPC, nsenter.Net, nsenter.Cgroup}}},
		{"pid", nsenter.Request{New: []nsenter.Kind{nsenter.PID}, Fork: true}},
		{"user with maps", nsenter.Request{New: []nsenter.Kind{nsenter.User},
			UIDMap: []nsenter.IDMap{{Inside: 0, Outside: 100000, Size: 1000}, {Inside: 1000, Outside: 200000, Size: 10}},
			GIDMap: []nsenter.IDMap{{Inside: 0, Outside: 100000, Size: 1000}}, DenySetgroups: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stage, err := enter(t, &tc.r)
			if err != nil {
				t.Fatal(err)
			}
			d := tc.r
			d.Exec = []string{bin, "-test.run=^$"}
			got, err := enter(t, &d)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range nsenter.Kinds {
				key := "ns." + string(k)
				if (got[key] == self(k)) != (stage[key] == self(k)) {
					t.Errorf("%s: direct %s, stage %s (ours %s)", k, got[key], stage[key], self(k))
				}
			}
			keys := []string{"uid", "self/uid_map", "self/gid_map"}
			if tc.r.Fork {
				keys = append(keys, "pid") // 1, in the new pid namespace
			}
			for _, key := range keys {
				if got[key] != stage[key] {
					t.Errorf("%s: direct %q, stage %q", key, got[key], stage[key])
				}
			}
		})
	}
	// A missing program is an error from Start, worded as the stage's.
	_, err = nsenter.Start(exec.Command("unused"), &nsenter.Request{New: []nsenter.Kind{nsenter.UTS}, Exec: []string{"nosuchcommand"}})
	if err == nil || err.Error() != "exec nosuchcommand: no such file or directory" {
		t.Errorf("missing program: %v", err)
	}
}

func TestNewPidNamespaceMakesPid1(t *testing.T) {
	needRoot(t)
	got, err := enter(t, &nsenter.Request{New: []nsenter.Kind{nsenter.PID}})
	if err != nil {
		t.Fatal(err)
	}
	if got["pid"] != "1" {
		t.Errorf("pid in a new pid namespace = %s, want 1", got["pid"])
	}
}

// Join the namespaces of a process made by util-linux's unshare, user
// namespace first (it owns the others).
func TestJoinAll(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare(1) not installed")
	}
	u := exec.Command("unshare", "-U", "-m", "-p", "-n", "-u", "-i", "--fork", "--map-root-user",
		"sh", "-c", "hostname joined-host; exec sleep 60")
	if err := u.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { u.Process.Kill(); u.Wait() }()
	target := childOf(t, u.Process.Pid)
	deadline := time.Now().Add(5 * time.Second)
	for {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", target))
		if strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("target did not reach sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	joins, err := nsenter.JoinAll(target)
	if err != nil {
		t.Fatal(err)
	}
	got, err := enter(t, &nsenter.Request{Join: joins})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []nsenter.Kind{nsenter.User, nsenter.Mount, nsenter.PID, nsenter.Net, nsenter.UTS, nsenter.IPC} {
		want, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", target, k))
		if got["ns."+string(k)] != want {
			t.Errorf("%s namespace = %s, want the target's %s", k, got["ns."+string(k)], want)
		}
	}
	if got["sys/kernel/hostname"] != "joined-host" {
		t.Errorf("hostname = %q", got["sys/kernel/hostname"])
	}
	if got["uid"] != "0" {
		t.Errorf("uid in the joined user namespace = %s, want 0 (root mapped to ours)", got["uid"])
	}
	if n, _ := strconv.Atoi(got["pid"]); n <= 1 || n > 20 {
		t.Errorf("pid %s is not one of the joined pid namespace's", got["pid"])
	}
}

// childOf waits for pid's first child.
func childOf(t *testing.T, pid int) int {
	t.Helper()
	for i := 0; i < 500; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		if f := strings.Fields(string(b)); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d has no child", pid)
	return 0
}

func TestUserNamespaceMultiRangeMap(t *testing.T) {
	needRoot(t)
	got, err := enter(t, &nsenter.Request{
		New:    []nsenter.Kind{nsenter.User},
		UIDMap: []nsenter.IDMap{{Inside: 0, Outside: 100000, Size: 1000}, {Inside: 1000, Outside: 200000, Size: 1000}},
		GIDMap: []nsenter.IDMap{{Inside: 0, Outside: 100000, Size: 65536}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "0 100000 1000|1000 200000 1000"
	if strings.Join(strings.Fields(strings.ReplaceAll(got["self/uid_map"], "|", " | ")), " ") != strings.ReplaceAll(want, "|", " | ") {
		t.Errorf("uid_map = %q, want %q", got["self/uid_map"], want)
	}
	if got["uid"] != "0" {
		t.Errorf("uid = %s, want 0", got["uid"])
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	needRoot(t)
	got, err := enter(t, &nsenter.Request{
		New:         []nsenter.Kind{nsenter.Time},
		TimeOffsets: []nsenter.TimeOffset{{Clock: nsenter.Boottime, Seconds: 10 * 86400}, {Clock: nsenter.Monotonic, Seconds: 3600}},
	})
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("kernel without time namespaces: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	up, _ := strconv.ParseFloat(strings.Fields(got["uptime"])[0], 64)
	var host unix.Sysinfo_t
	unix.Sysinfo(&host)
	if up < 10*86400 || up > 10*86400+float64(host.Uptime)+60 {
		t.Errorf("uptime in the time namespace = %.0f s, want 10 days more than the host's %d s", up, host.Uptime)
	}
}

func TestCgroupNamespaceRoot(t *testing.T) {
	needRoot(t)
	got, err := enter(t, &nsenter.Request{New: []nsenter.Kind{nsenter.Cgroup}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(got["self/cgroup"], "|") {
		if !strings.HasSuffix(l, ":/") {
			t.Errorf("cgroup line %q: the namespace is not rooted at our cgroup", l)
		}
	}
}

func TestOOMScoreAdj(t *testing.T) {
	needRoot(t)
	adj := 123
	got, err := enter(t, &nsenter.Request{OOMScoreAdj: &adj})
	if err != nil {
		t.Fatal(err)
	}
	if got["self/oom_score_adj"] != "123" {
		t.Errorf("oom_score_adj = %s", got["self/oom_score_adj"])
	}
}

func TestErrors(t *testing.T) {
	needRoot(t)
	notNS := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(notNS, nil, 0o644)
	gone := exec.Command("true")
	gone.Run()
	tests := []struct {
		name  string
		r     *nsenter.Request
		want  string
		errno error
	}{
		{"missing_path", &nsenter.Request{Join: []nsenter.Join{{Kind: nsenter.Net, Path: "/nonexistent/ns"}}},
			"open net namespace /nonexistent/ns: no such file or directory", unix.ENOENT},
		{"not_a_namespace", &nsenter.Request{Join: []nsenter.Join{{Kind: nsenter.Net, Path: notNS}}},
			"join net namespace " + notNS + ": invalid argument", unix.EINVAL},
		{"wrong_kind", &nsenter.Request{Join: []nsenter.Join{{Kind: nsenter.UTS, Path: "/proc/self/ns/net"}}},
			"join uts namespace /proc/self/ns/net: invalid argument", unix.EINVAL},
		{"bad_map", &nsenter.Request{New: []nsenter.Kind{nsenter.User},
			UIDMap: []nsenter.IDMap{{0, 100000, 10}, {5, 200000, 10}}},
			"write uid_map of", unix.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enter(t, tc.r)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.errno) {
				t.Errorf("err = %v, want %q wrapping %v", err, tc.want, tc.errno)
			}
		})
	}
	t.Run("vanished_pid", func(t *testing.T) {
		_, err := nsenter.JoinAll(gone.Process.Pid)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("target process %d", gone.Process.Pid)) {
			t.Errorf("JoinAll of a gone pid: %v", err)
		}
	})
}

// MakeNet's namespace is new, held by its file, leaves the caller's
// threads where they were, and is what a process joining it by the
// file's /proc path ends up in.
func TestMakeNet(t *testing.T) {
	needRoot(t)
	before := self(nsenter.Net)
	f, err := nsenter.MakeNet()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	made := fmt.Sprintf("net:[%d]", st.Ino)
	if made == before {
		t.Fatalf("MakeNet gave this process's own namespace %s", made)
	}
	// The thread that made it went back: every thread of this process
	// is in the old one.
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		if l, _ := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net"); l != before && l != "" {
			t.Errorf("thread %s is in %s, want %s", task.Name(), l, before)
		}
	}
	path := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd())
	got, err := enter(t, &nsenter.Request{Join: []nsenter.Join{{Kind: nsenter.Net, Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	if got["ns.net"] != made {
		t.Errorf("joined by %s: in %s, want %s", path, got["ns.net"], made)
	}
}
