package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A config's namespace with a path joins that namespace: here container b
// joins container a's network and uts namespaces and creates the rest.
func TestJoinNamespacesByPath(t *testing.T) {
	e := newEnv(t)
	a := e.id("a")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), a)
	pid := e.state(a).Pid
	out := e.runProbe("b", []string{"testinit", "ns"}, func(s *specs.Spec) {
		s.Hostname = ""
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace || ns.Type == specs.UTSNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", pid, map[specs.LinuxNamespaceType]string{
					specs.NetworkNamespace: "net", specs.UTSNamespace: "uts"}[ns.Type])
			}
		}
	})
	got := lines(out)
	for ns, joined := range map[string]bool{"net": true, "uts": true, "pid": false, "mnt": false, "ipc": false} {
		theirs, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if (got[ns] == theirs) != joined {
			t.Errorf("%s namespace: b has %s, a has %s; joined=%v expected", ns, got[ns], theirs, joined)
		}
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	e := newEnv(t)
	out := e.runProbe("time", []string{"testinit", "cat", "/proc/uptime"}, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 30 * 86400}}
	})
	up, err := strconv.ParseFloat(strings.Fields(out)[0], 64)
	if err != nil || up < 30*86400 {
		t.Errorf("uptime inside = %q, want over 30 days", out)
	}
}

// With a cgroup namespace the container's own cgroups are its root, and
// its /sys/fs/cgroup shows them as such.
func TestCgroupNamespace(t *testing.T) {
	e := newEnv(t)
	out := e.runProbe("cgns", []string{"sh", "-c", "testinit cgroup; cat /sys/fs/cgroup/pids/cgroup.procs"}, func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	})
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(l, ":") && !strings.HasSuffix(l, ":/") {
			t.Errorf("cgroup line %q: not rooted at the container's cgroup", l)
		}
	}
	if !strings.Contains(out, "\n1\n") {
		t.Errorf("the container's pids cgroup does not list its pid 1:\n%s", out)
	}
}

func nsrun(t *testing.T, args ...string) result {
	t.Helper()
	return runBin(t, nsrunBin, args...)
}

func TestNsrun(t *testing.T) {
	r := nsrun(t, "--new", "pid,mnt,uts,ipc", "--mount-proc", "--", "sh", "-c", "echo pid=$$; ls /proc | grep -c '^[0-9]'")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "pid=1\n") {
		t.Errorf("new pid namespace: %+v", r)
	}
	if r := nsrun(t, "--new", "user,mnt", "--map-root", "--", "id", "-u"); r.code != 0 || r.stdout != "0\n" {
		t.Errorf("--map-root: %+v", r)
	}
	if r := nsrun(t, "--new", "net", "--", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exit status not passed on: %+v", r)
	}
	// --fork without a pid namespace: CMD runs in a forked child, which
	// nsrun still waits for and whose status it returns.
	if r := nsrun(t, "--new", "uts", "--fork", "--", "sh", "-c", "hostname forked; hostname; exit 3"); r.code != 3 || r.stdout != "forked\n" {
		t.Errorf("--fork: %+v", r)
	}
	errs := []struct {
		args []string
		want string
	}{
		{[]string{"--new", "bogus", "--", "true"}, `unknown namespace kind "bogus"`},
		{[]string{"--join", "net", "--", "true"}, "want TYPE=PATH"},
		{[]string{"--join", "net=/nonexistent", "--", "true"}, "open net namespace /nonexistent: no such file or directory"},
		{[]string{"--join", "net=/etc/hostname", "--", "true"}, "join net namespace /etc/hostname: invalid argument"},
		{[]string{"--target", "1", "--", "true"}, "--target needs --all"},
		{[]string{"--target", "999999999", "--all", "--", "true"}, "target process 999999999"},
		{[]string{"--all", "--", "true"}, "--all needs --target"},
		{[]string{"--mount-proc", "--", "true"}, "--mount-proc needs --new mnt"},
		{[]string{"--uid-map", "0:1", "--new", "user", "--", "true"}, "want INSIDE:OUTSIDE:LEN"},
		{[]string{"--new", "mnt", "--", "nosuchcommand"}, "exec nosuchcommand: no such file or directory"},
	}
	for _, tc := range errs {
		r := nsrun(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "nsrun: ") {
			t.Errorf("nsrun %v: exit %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// An unprivileged user maps itself to root of a new user namespace: the
// map is written by nsrun itself after denying setgroups, as the kernel
// requires of an unprivileged writer.
func TestNsrunUnprivileged(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv(1) not installed")
	}
	// The binary must be reachable by nobody: copy it out of a 0700 temp dir.
	dir, err := os.MkdirTemp("", "nsrun-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := dir + "/nsrun"
	b, err := os.ReadFile(nsrunBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
		bin, "--new", "user,mnt", "--map-root", "--", "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/setgroups").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 5 || f[0] != "0" || f[1] != "0" || f[2] != "65534" || f[3] != "1" || f[4] != "deny" {
		t.Errorf("unprivileged --map-root: %q", out)
	}
}

// An unprivileged user with several ranges in /etc/subuid and
// /etc/subgid: the maps are written by newuidmap and newgidmap
// (--map-helpers). The host's files are not touched: the test's own are
// bound over them in a private mount namespace, which newuidmap (setuid,
// started from inside it) reads.
func TestNsrunMapHelpers(t *testing.T) {
	if out, err := exec.Command("../hack/setup.sh", "uidmap").CombinedOutput(); err != nil {
		t.Fatalf("install uidmap: %v: %s", err, out)
	}
	dir, err := os.MkdirTemp("", "nsrun-helpers-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(nsrunBin)
	if err == nil {
		err = os.WriteFile(dir+"/nsrun", b, 0o755)
	}
	for _, f := range []string{"subuid", "subgid"} {
		if err == nil {
			err = os.WriteFile(dir+"/"+f, []byte("nobody:100000:65536\n"), 0o644)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1/subuid" /etc/subuid && mount --bind "$1/subgid" /etc/subgid &&
		exec setpriv --reuid 65534 --regid 65534 --clear-groups "$1/nsrun" --new user,mnt --map-helpers \
			--uid-map 0:65534:1 --uid-map 1:100000:1000 --gid-map 0:65534:1 --gid-map 1:100000:1000 \
			-- sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u'`
	out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := strings.Join(strings.Fields(string(out)), " ")
	want := "0 65534 1 1 100000 1000 0 65534 1 1 100000 1000 0"
	if got != want {
		t.Errorf("maps and uid: %q, want %q", got, want)
	}
	// A range outside the user's subordinate ids is refused by the helper.
	script = strings.Replace(script, "1:100000:1000 --gid-map", "1:300000:1000 --gid-map", 1)
	out, err = exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nsrun: newuidmap") {
		t.Errorf("a range outside /etc/subuid: %v: %s", err, out)
	}
}

// nsrun's common command lines are carried out by the C stage before Go
// starts; everything else by Go. Both must behave the same: each case runs
// as given (the C path) and with "--setgroups allow" added, a flag the C
// reader leaves to Go and that changes nothing without a new user
// namespace (the Go path). What the program sees, its exit status and the
// error texts must match.
func TestNsrunFastPathMatchesGo(t *testing.T) {
	target := exec.Command("unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "sleep", "60")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		target.Process.Kill()
		target.Wait()
	}()
	// The sleep inside is unshare's child: wait for it to appear.
	var sleeper string
	for i := 0; i < 100 && sleeper == ""; i++ {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", target.Process.Pid, target.Process.Pid))
		sleeper = strings.TrimSpace(string(b))
		time.Sleep(10 * time.Millisecond)
	}
	if sleeper == "" {
		t.Fatal("unshare's child did not appear")
	}
	defer unix.Kill(atoi(t, sleeper), unix.SIGKILL)
	// The C reader did run: without a fork, the program is nsrun's own
	// process, exec'd in place, where the Go path starts it as a child.
	for _, tc := range []struct {
		extra []string
		same  bool
	}{{nil, true}, {[]string{"--setgroups", "allow"}, false}} {
		cmd := exec.Command(nsrunBin, append(tc.extra, "--new", "uts", "--", "sh", "-c", "echo $$")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if same := strings.TrimSpace(string(out)) == strconv.Itoa(cmd.Process.Pid); same != tc.same {
			t.Errorf("nsrun %v: the program is nsrun's own process: %v, want %v", tc.extra, same, tc.same)
		}
	}
	probe := "echo pid=$$; for n in ipc mnt net pid uts cgroup; do echo $n=$(readlink /proc/self/ns/$n); done; exit 5"
	for _, args := range [][]string{
		{"--new", "pid,mnt,uts,ipc", "--fork", "--mount-proc"},
		{"--new=net,uts", "--new", "cgroup"},
		{"--new", "uts", "-f"},
		{"--target", sleeper, "--all"},
		{"-t", sleeper, "-a", "--fork"},
		{"--join", "net=/proc/" + sleeper + "/ns/net", "--join=uts=/proc/" + sleeper + "/ns/uts"},
		{"--join", "net=/nonexistent"},
		{"--join", "net=/etc/hostname"},
		{"--new", "pid", "--join", "pid=/proc/" + sleeper + "/ns/pid"},
		{"--target", "999999999", "--all"},
		{},
	} {
		fast := nsrun(t, append(append([]string{}, args...), "--", "sh", "-c", probe)...)
		slow := nsrun(t, append(append([]string{"--setgroups", "allow"}, args...), "--", "sh", "-c", probe)...)
		// Namespace ids and pids differ run to run: compare whether each
		// namespace is the host's, the target's or a new one, and
		// whether the program is pid 1.
		norm := func(out string) string {
			var b strings.Builder
			for _, l := range strings.Split(out, "\n") {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					continue
				}
				self, _ := os.Readlink("/proc/self/ns/" + k)
				theirs, _ := os.Readlink("/proc/" + sleeper + "/ns/" + k)
				switch {
				case k == "pid" && !strings.Contains(v, ":"):
					v = strconv.FormatBool(v == "1")
				case v == self:
					v = "host"
				case v == theirs:
					v = "target"
				default:
					v = "new"
				}
				fmt.Fprintf(&b, "%s=%s ", k, v)
			}
			return b.String()
		}
		if norm(fast.stdout) != norm(slow.stdout) || fast.code != slow.code || fast.stderr != slow.stderr {
			t.Errorf("nsrun %v:\nC:  exit %d %q %q\nGo: exit %d %q %q", args, fast.code, norm(fast.stdout), fast.stderr,
				slow.code, norm(slow.stdout), slow.stderr)
		}
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A config that lists no mount namespace shares the host's (the spec's
// rule for any unlisted kind, what the OCI suite's linux_ns_itype checks):
// the container's mounts are made on its rootfs in place, it is chroot'ed
// there, an exec lands in the same root, and delete (or a failed create)
// leaves no mount behind.
func TestNoMountNamespace(t *testing.T) {
	e := newEnv(t)
	id := e.id("nomntns")
	bundle := e.bundle([]string{"sh", "-c", "readlink /proc/self/ns/mnt; cat /marker; exec testinit sleep"}, func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.MountNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
		s.Root.Readonly = false
	})
	rootfsDir := filepath.Join(bundle, "rootfs")
	os.WriteFile(filepath.Join(rootfsDir, "marker"), []byte("inside\n"), 0o644)
	// A mount that was under the rootfs before the container is not its
	// own: delete leaves it.
	premount := filepath.Join(rootfsDir, "mnt")
	os.MkdirAll(premount, 0o755)
	if err := unix.Mount("tmpfs", premount, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(premount, unix.MNT_DETACH)
	under := func() []string {
		b, _ := os.ReadFile("/proc/self/mountinfo")
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 4 && strings.HasPrefix(f[4], rootfsDir+"/") {
				out = append(out, f[4])
			}
		}
		return out
	}
	out := e.tempFile()
	cmd := exec.Command(hakoBin, "--root", e.root, "run", "-d", "--bundle", bundle, id)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Run(); err != nil {
		t.Fatalf("run -d: %v: %s", err, readAll(t, out))
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if got := e.mustHako("exec", id, "sh", "-c", "cat /marker; readlink /proc/self/ns/mnt"); got != "inside\n"+self+"\n" {
		t.Errorf("exec sees %q, want the container's root and the host's mount namespace %s", got, self)
	}
	if len(under()) == 0 {
		t.Error("no mounts under the rootfs while the container runs")
	}
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
	if m := under(); len(m) != 1 || m[0] != premount {
		t.Errorf("mounts under the rootfs after delete: %v, want only %s", m, premount)
	}
	unix.Unmount(premount, unix.MNT_DETACH)
	if got := readAll(t, out); !strings.HasPrefix(got, self+"\ninside\n") {
		t.Errorf("init saw %q", got)
	}
	// A create that fails after the mounts were made removes them too.
	bad := e.bundle([]string{"nosuchprogram"}, func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}}
		s.Root.Readonly = false
	})
	if r := e.hako("create", "--bundle", bad, e.id("nomntns-bad")); r.code == 0 {
		t.Fatal("create of a missing program succeeded")
	}
	rootfsDir = filepath.Join(bad, "rootfs")
	if m := under(); len(m) != 0 {
		t.Errorf("a failed create left mounts: %v", m)
	}
}

// A new network namespace (made by hako ahead of the init, which joins
// it, where no user namespace is involved) is the container's own: not
// the host's nor another container's, with only a loopback device, and
// owned by the container's user namespace when it has one (which hako
// then leaves to the init to make).
func TestNewNetworkNamespace(t *testing.T) {
	e := newEnv(t)
	host, _ := os.Readlink("/proc/self/ns/net")
	hostUser, _ := os.Readlink("/proc/self/ns/user")
	seen := map[string]string{host: "the host"}
	for _, tc := range []struct {
		name   string
		userns bool
	}{{"net-a", false}, {"net-b", false}, {"net-userns", true}} {
		id := e.id(tc.name)
		bundle := e.bundle([]string{"testinit", "sleep"}, func(s *specs.Spec) {
			if tc.userns {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
		})
		for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755) // for the user namespace's root
		}
		e.mustHako("create", "--bundle", bundle, id)
		pid := e.state(id).Pid
		net, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if other, ok := seen[net]; ok || net == "" {
			t.Errorf("%s: network namespace %q is %s's", tc.name, net, other)
		}
		seen[net] = tc.name
		devs, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
		if n := strings.Count(string(devs), "\n") - 2; err != nil || n != 1 || !strings.Contains(string(devs), "lo:") {
			t.Errorf("%s: devices %q (%v), want lo alone", tc.name, devs, err)
		}
		// Its owner: NS_GET_USERNS on the network namespace.
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err != nil {
			t.Fatal(err)
		}
		owner, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_USERNS)
		f.Close()
		if err != nil {
			t.Fatalf("NS_GET_USERNS: %v", err)
		}
		ownerNS, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", owner))
		unix.Close(owner)
		want := hostUser
		if tc.userns {
			want, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid))
		}
		if ownerNS != want {
			t.Errorf("%s: network namespace owned by %s, want %s", tc.name, ownerNS, want)
		}
	}
	// Who made it: without a user namespace hako, and the init joins it
	// (no CLONE_NEWNET in its unshare); with one, the init itself.
	if out, err := exec.Command("../hack/setup.sh", "strace").CombinedOutput(); err != nil {
		t.Fatalf("install strace: %v\n%s", err, out)
	}
	for _, userns := range []bool{false, true} {
		bundle := e.bundle([]string{"true"}, func(s *specs.Spec) {
			if userns {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			}
		})
		for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
		trace := filepath.Join(t.TempDir(), "trace")
		cmd := exec.Command("strace", "-f", "-qq", "-o", trace, "-e", "trace=unshare,setns",
			hakoBin, "--root", e.root, "run", "--bundle", bundle, e.id("net-trace"))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run (user namespace %v): %v\n%s", userns, err, b)
		}
		// The init's stage is the process that unshares the pid
		// namespace; hako's own thread that made one also does setns
		// (back to its own), which is no join of the init's.
		b, _ := os.ReadFile(trace)
		byPid := map[string][]string{}
		stage := ""
		for _, l := range strings.Split(string(b), "\n") {
			pid, call, _ := strings.Cut(l, " ")
			byPid[pid] = append(byPid[pid], call)
			if strings.HasPrefix(strings.TrimSpace(call), "unshare(") && strings.Contains(call, "CLONE_NEWPID") {
				stage = pid
			}
		}
		var unshared, joined bool
		for _, call := range byPid[stage] {
			unshared = unshared || strings.Contains(call, "unshare(") && strings.Contains(call, "CLONE_NEWNET")
			joined = joined || strings.Contains(call, "setns(") && strings.Contains(call, "CLONE_NEWNET")
		}
		if userns && (!unshared || joined) || !userns && (unshared || !joined) {
			t.Errorf("user namespace %v: the init unshared a network namespace %v, joined one %v; trace:\n%s", userns, unshared, joined, b)
		}
	}
}
