package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runProbe runs a container in the foreground and returns its stdout.
func (e *env) runProbe(name string, args []string, edit func(*specs.Spec)) string {
	e.t.Helper()
	r := e.hako("run", "--bundle", e.bundle(args, edit), e.id(name))
	if r.code != 0 {
		e.t.Fatalf("run %s: exit %d\nstdout: %s\nstderr: %s", name, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func lines(s string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestProcessConfig(t *testing.T) {
	e := newEnv(t)
	out := e.runProbe("proc", []string{"testinit", "ids", "--", "cwd", "--", "hostname", "--", "env", "--", "pid"},
		func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 1002}}
			s.Process.Cwd = "/tmp"
			s.Process.Env = append(s.Process.Env, "HAKO_TEST=yes it works")
			s.Hostname = "probe-host"
		})
	got := lines(out)
	for k, want := range map[string]string{
		"uid":       "1000 gid",
		"cwd":       "/tmp",
		"hostname":  "probe-host",
		"HAKO_TEST": "yes it works",
		"pid":       "1 ppid",
		"TERM":      "xterm",
	} {
		if !strings.HasPrefix(got[k], want) {
			t.Errorf("%s = %q, want prefix %q\n%s", k, got[k], want, out)
		}
	}
	if !strings.Contains(out, "uid=1000 gid=1001 groups=[5 1002]") {
		t.Errorf("ids: %s", out)
	}
	if len(lines(out)) > 12 { // ids, cwd, hostname, PATH, TERM, HAKO_TEST, pid: the env is the config's only
		t.Errorf("unexpected environment:\n%s", out)
	}
}

func TestPid1IsTheProgram(t *testing.T) {
	e := newEnv(t)
	out := e.runProbe("pid1", []string{"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -c '^[0-9]'"}, nil)
	if !strings.HasPrefix(out, "sh -c cat /proc/1/cmdline") {
		t.Errorf("pid 1 is not the program:\n%s", out)
	}
}

func TestCapabilitiesReduced(t *testing.T) {
	e := newEnv(t)
	// Default config: CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10).
	want := fmt.Sprintf("%016x", uint64(1<<29|1<<5|1<<10))
	got := lines(strings.ReplaceAll(e.runProbe("caps", []string{"testinit", "caps"}, nil), ":\t", "="))
	for _, set := range []string{"CapEff", "CapPrm", "CapBnd"} {
		if got[set] != want {
			t.Errorf("%s = %s, want %s", set, got[set], want)
		}
	}
	if got["CapInh"] != "0000000000000000" || got["CapAmb"] != "0000000000000000" {
		t.Errorf("inheritable/ambient = %s/%s, want empty (no inheritable set configured)", got["CapInh"], got["CapAmb"])
	}

	t.Run("non_root_keeps_configured_caps", func(t *testing.T) {
		out := e.runProbe("capsuser", []string{"testinit", "caps"}, func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1000}
			c := []string{"CAP_NET_BIND_SERVICE"}
			s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c, Inheritable: c, Ambient: c}
		})
		got := lines(strings.ReplaceAll(out, ":\t", "="))
		want := fmt.Sprintf("%016x", uint64(1<<10))
		for _, set := range []string{"CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"} {
			if got[set] != want {
				t.Errorf("%s = %s, want %s", set, got[set], want)
			}
		}
	})
}

func TestCgroupLimits(t *testing.T) {
	e := newEnv(t)
	limit, pids := int64(64<<20), int64(32)
	edit := func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &pids}
	}
	out := e.runProbe("limits", []string{"sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; testinit cgroup"}, edit)
	f := strings.Fields(out)
	if len(f) < 2 || f[0] != "67108864" || f[1] != "32" {
		t.Errorf("limits seen inside = %q", out)
	}
	if !strings.Contains(out, "memory:/hako/"+e.id("limits")) {
		t.Errorf("container not in its memory cgroup:\n%s", out)
	}

	t.Run("host_side", func(t *testing.T) {
		id := e.id("hostside")
		e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, edit), id)
		defer e.hako("delete", "--force", id)
		for file, want := range map[string]string{
			"/sys/fs/cgroup/memory/hako/" + id + "/memory.limit_in_bytes": "67108864",
			"/sys/fs/cgroup/pids/hako/" + id + "/pids.max":                "32",
		} {
			b, err := os.ReadFile(file)
			if err != nil || strings.TrimSpace(string(b)) != want {
				t.Errorf("%s = %q, %v; want %s", file, b, err, want)
			}
		}
		procs, _ := os.ReadFile("/sys/fs/cgroup/pids/hako/" + id + "/cgroup.procs")
		if strings.TrimSpace(string(procs)) != fmt.Sprint(e.state(id).Pid) {
			t.Errorf("cgroup.procs = %q, want the init pid %d", procs, e.state(id).Pid)
		}
	})

	t.Run("pids_limit_enforced", func(t *testing.T) {
		small := int64(5)
		r := e.hako("run", "--bundle", e.bundle([]string{"sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done"},
			func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &small} }), e.id("pidsmax"))
		if r.code == 0 || !strings.Contains(r.stderr, "can't fork: Resource temporarily unavailable") {
			t.Errorf("8 forks under pids.max=5: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// Two containers at once: each sees only its own processes, and they have
// distinct namespaces.
func TestContainersIsolated(t *testing.T) {
	e := newEnv(t)
	a, b := e.id("a"), e.id("b")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), a)
	e.mustHako("start", a)
	nsA := e.mustHako("run", "--bundle", e.bundle([]string{"testinit", "ns"}, nil), b+"x")
	out := e.runProbe("b", []string{"sh", "-c", "ls /proc | grep '^[0-9]' | tr '\\n' ' '"}, nil)
	// pid 1 (sh) and its pipeline's children are all b may see; a's
	// processes (or the host's) would show up with other pids.
	pids := strings.Fields(out)
	if len(pids) == 0 || pids[0] != "1" {
		t.Errorf("container b: pids %q, want 1 first", out)
	}
	for _, p := range pids {
		if n, _ := strconv.Atoi(p); n > 10 {
			t.Errorf("container b sees foreign pid %s (all: %q)", p, out)
		}
	}
	stA := e.state(a)
	host := map[string]string{}
	for _, ns := range []string{"pid", "net", "mnt", "uts", "ipc"} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", stA.Pid, ns))
		if err != nil {
			t.Fatal(err)
		}
		host[ns] = l
		self, _ := os.Readlink("/proc/self/ns/" + ns)
		if l == self {
			t.Errorf("container a shares the host's %s namespace", ns)
		}
	}
	got := lines(nsA)
	for ns, l := range host {
		if got[ns] == l {
			t.Errorf("containers share %s namespace %s", ns, l)
		}
	}
}

// Only stdio reaches the program: not the init's sync socket or exec
// fifo, not descriptors hako itself inherited from its caller.
func TestNoLeakedDescriptors(t *testing.T) {
	e := newEnv(t)
	leak, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	out, errf := e.tempFile(), e.tempFile()
	cmd := exec.Command(hakoBin, "--root", e.root, "run", "--bundle", e.bundle([]string{"testinit", "fds"}, nil), e.id("fds"))
	cmd.Stdout, cmd.Stderr = out, errf
	// fds 3-6 in hako, without close-on-exec; 3 and 4 are reused for the
	// init's own, 5 and 6 would pass through unless hako closes them.
	cmd.ExtraFiles = []*os.File{leak, leak, leak, leak}
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v: %s", err, readAll(t, errf))
	}
	got := lines(readAll(t, out))
	for fd := range got {
		if fd != "0" && fd != "1" && fd != "2" {
			t.Errorf("fd %s=%s reached the container", fd, got[fd])
		}
	}
	if len(got) != 3 {
		t.Errorf("fds = %v, want stdio only", got)
	}
}

// With a user namespace the container's root is an unprivileged host uid.
func TestUserNamespace(t *testing.T) {
	e := newEnv(t)
	id := e.id("userns")
	bundle := e.bundle([]string{"sh", "-c", "testinit ids; cat /proc/self/uid_map; testinit sleep"},
		func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		})
	// t.TempDir makes 0700 directories: uid 100000 must be able to reach
	// its rootfs, as with any runtime.
	for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	e.mustHako("create", "--bundle", bundle, id)
	e.mustHako("start", id)
	pid := e.state(id).Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "Uid:\t100000\t100000\t100000\t100000") {
		t.Errorf("container root is not host uid 100000:\n%s", status)
	}
	self, _ := os.Readlink("/proc/self/ns/user")
	if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid)); l == self {
		t.Error("container shares the host's user namespace")
	}
}

// A rootfs whose /proc or /dev is a symlink to a host directory: the
// mounts land inside the rootfs, the host directories stay untouched. A
// /proc that is a link is refused (proc goes on a real directory only:
// masked paths are under /proc); a /dev elsewhere is just followed inside.
func TestRootfsSymlinksStayInside(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, entry, link string
		wantErr           string
	}{
		{"dev_relative", "dev", "../../../../../../../..%s", ""},
		{"dev_absolute", "dev", "%s", ""},
		{"proc_absolute", "proc", "%s", "the destination is a symlink in the rootfs; proc goes on a real directory only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := t.TempDir()
			bundle := e.bundle([]string{"sh", "-c", "ls /proc/self/status /dev/null >/dev/null && echo inside-ok"}, nil)
			rootfs := filepath.Join(bundle, "rootfs")
			os.RemoveAll(filepath.Join(rootfs, tc.entry))
			if err := os.Symlink(fmt.Sprintf(tc.link, host), filepath.Join(rootfs, tc.entry)); err != nil {
				t.Fatal(err)
			}
			before := e.snapshot()
			r := e.hako("run", "--bundle", bundle, e.id(tc.name))
			if tc.wantErr == "" && (r.code != 0 || !strings.Contains(r.stdout, "inside-ok")) {
				t.Errorf("run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			if tc.wantErr != "" && (r.code == 0 || !strings.Contains(r.stderr, tc.wantErr)) {
				t.Errorf("run: exit %d, stderr %q; want %q", r.code, r.stderr, tc.wantErr)
			}
			if ents, _ := os.ReadDir(host); len(ents) != 0 {
				t.Errorf("host directory %s written through a symlink: %v", host, ents)
			}
			e.sameAs(before)
		})
	}
}

// rootfsPropagation shared: the container still starts (pivot_root needs
// a private parent) and none of its mounts reach the host.
func TestRootfsPropagationShared(t *testing.T) {
	e := newEnv(t)
	for _, prop := range []string{"rshared", "shared", "rprivate", "slave"} {
		t.Run(prop, func(t *testing.T) {
			before := e.snapshot()
			out := e.runProbe("prop-"+prop, []string{"sh", "-c", "echo ok"}, func(s *specs.Spec) {
				s.Linux.RootfsPropagation = prop
			})
			if out != "ok\n" {
				t.Errorf("output %q", out)
			}
			e.sameAs(before)
		})
	}
}

// Namespaced sysctls are set inside, and /proc/sys is read-only after.
func TestSysctls(t *testing.T) {
	e := newEnv(t)
	host, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	out := e.runProbe("sysctl", []string{"sh", "-c",
		"cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; echo 2 > /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo ro"},
		func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"}
		})
	if out != "1\n1234\nro\n" {
		t.Errorf("sysctls inside: %q", out)
	}
	if after, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(after) != string(host) {
		t.Errorf("host's ip_forward changed: %q -> %q", host, after)
	}
	// Without a proc mount the image's /proc would take the writes: a
	// link there could lead them to any file of the container's. Both
	// inits refuse in the same words (the init without Go's error is the
	// Go init's redo, or, once a prestart hook ran, its own), for each
	// kind of /proc an image may have.
	for name, image := range map[string]func(rootfs string){
		"directory": func(rootfs string) { os.MkdirAll(filepath.Join(rootfs, "proc/sys/kernel"), 0o755) },
		"link": func(rootfs string) {
			os.RemoveAll(filepath.Join(rootfs, "proc"))
			os.Symlink("/tmp", filepath.Join(rootfs, "proc"))
		},
	} {
		for _, mode := range []string{"stage", "go", "stage+hook"} {
			goInit := mode == "go"
			bundle := e.bundle([]string{"true"}, func(s *specs.Spec) {
				withoutProc(s)
				s.Linux.Sysctl = map[string]string{"kernel.shmmni": "1234"}
				if goInit {
					goInitOnly(s)
				}
				if mode == "stage+hook" {
					s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("cat > /dev/null")}}
				}
			})
			image(filepath.Join(bundle, "rootfs"))
			before := e.snapshot()
			r := e.hako("run", "--bundle", bundle, e.id("sysctl-noproc"))
			if want := "linux.sysctl needs the config to mount proc at /proc"; r.code == 0 || !strings.Contains(r.stderr, want) {
				t.Errorf("%s /proc (%s): %+v, want %q", name, mode, r, want)
			}
			e.sameAs(before)
		}
	}
}

// Scheduler, I/O priority, personality, CPU affinity and the session
// keyring, as configured, seen from inside.
func TestProcessAttributes(t *testing.T) {
	e := newEnv(t)
	id := e.id("attrs")
	out := e.runProbe("attrs", []string{"testinit", "sched", "--", "keyring"}, func(s *specs.Spec) {
		s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 5}
		s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		s.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "0"}
	})
	for _, want := range []string{
		"policy=3 nice=5 ", // SCHED_BATCH
		"ioprio_class=2 ioprio_level=6",
		"personality=0x8",
		"cpus=0\n",
		"session_keyring=_ses." + id + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	t.Run("no_new_keyring", func(t *testing.T) {
		r := e.hako("run", "--no-new-keyring", "--bundle", e.bundle([]string{"testinit", "keyring"}, nil), e.id("keep"))
		if r.code != 0 || strings.Contains(r.stdout, "_ses."+e.id("keep")) {
			t.Errorf("--no-new-keyring: %+v", r)
		}
	})
	t.Run("refusal", func(t *testing.T) {
		r := e.hako("run", "--bundle", e.bundle([]string{"true"}, func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NOPE"}
		}), e.id("badio"))
		if r.code == 0 || !strings.Contains(r.stderr, `ioPriority: unknown class "IOPRIO_CLASS_NOPE"`) {
			t.Errorf("bad ioPriority: %+v", r)
		}
	})
}

// Every RLIMIT_ the spec names, and oom_score_adj, as configured.
func TestRlimitsAndOOMScore(t *testing.T) {
	e := newEnv(t)
	res := map[string]int{"AS": unix.RLIMIT_AS, "CORE": unix.RLIMIT_CORE, "CPU": unix.RLIMIT_CPU, "DATA": unix.RLIMIT_DATA,
		"FSIZE": unix.RLIMIT_FSIZE, "LOCKS": unix.RLIMIT_LOCKS, "MEMLOCK": unix.RLIMIT_MEMLOCK, "MSGQUEUE": unix.RLIMIT_MSGQUEUE,
		"NICE": unix.RLIMIT_NICE, "NOFILE": unix.RLIMIT_NOFILE, "NPROC": unix.RLIMIT_NPROC, "RSS": unix.RLIMIT_RSS,
		"RTPRIO": unix.RLIMIT_RTPRIO, "RTTIME": unix.RLIMIT_RTTIME, "SIGPENDING": unix.RLIMIT_SIGPENDING, "STACK": unix.RLIMIT_STACK}
	// Values under this process's hard limits (raising one needs
	// CAP_SYS_RESOURCE, which this host's bounding set lacks), and apart
	// from the defaults so that each is seen to be set.
	want := map[string]uint64{}
	for n, r := range res {
		var cur unix.Rlimit
		if err := unix.Getrlimit(r, &cur); err != nil {
			t.Fatal(err)
		}
		v := uint64(64 << 20)
		if n == "NOFILE" || n == "NPROC" || n == "SIGPENDING" || n == "LOCKS" || n == "CPU" || n == "RTTIME" {
			v = 1000
		}
		if n == "NICE" || n == "RTPRIO" || n == "CORE" {
			v = 0
		}
		if n == "AS" || n == "DATA" { // the Go probe maps a lot of address space
			v = 8 << 30
		}
		want[n] = min(v, cur.Max)
	}
	adj := 500
	out := e.runProbe("rlimits", []string{"sh", "-c", "testinit rlimits; cat /proc/self/oom_score_adj"}, func(s *specs.Spec) {
		s.Process.Rlimits = nil
		for n, v := range want {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_" + n, Soft: v, Hard: v})
		}
		s.Process.OOMScoreAdj = &adj
	})
	got := lines(out)
	for n, v := range want {
		if w := fmt.Sprintf("%d:%d", v, v); got["RLIMIT_"+n] != w {
			t.Errorf("RLIMIT_%s = %q, want %s", n, got["RLIMIT_"+n], w)
		}
	}
	if !strings.HasSuffix(out, "\n500\n") {
		t.Errorf("oom_score_adj: %q", out)
	}
}

// linux.memoryPolicy (runtime-spec 1.3), edited as JSON here to check the
// config's own spelling.
func TestMemoryPolicy(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "mempolicy"}, nil)
	p := filepath.Join(bundle, "config.json")
	b, _ := os.ReadFile(p)
	var cfg map[string]any
	json.Unmarshal(b, &cfg)
	cfg["linux"].(map[string]any)["memoryPolicy"] = map[string]any{"mode": "MPOL_BIND", "nodes": "0", "flags": []string{"MPOL_F_STATIC_NODES"}}
	b, _ = json.Marshal(cfg)
	os.WriteFile(p, b, 0o644)
	r := e.hako("run", "--bundle", bundle, e.id("mpol"))
	if r.code != 0 || !strings.Contains(r.stdout, "mempolicy_mode=2 nodes=0x1") {
		t.Errorf("memory policy: %+v", r)
	}
	cfg["linux"].(map[string]any)["memoryPolicy"] = map[string]any{"mode": "MPOL_SOMETIMES"}
	b, _ = json.Marshal(cfg)
	os.WriteFile(p, b, 0o644)
	if r := e.hako("run", "--bundle", bundle, e.id("mpolbad")); r.code == 0 || !strings.Contains(r.stderr, `memoryPolicy: unknown mode "MPOL_SOMETIMES"`) {
		t.Errorf("bad memory policy: %+v", r)
	}
}

// --preserve-fds and socket activation: the caller's descriptors from 3
// reach the program as its 3..., and LISTEN_FDS/LISTEN_PID are set.
func TestPreserveFDs(t *testing.T) {
	e := newEnv(t)
	a, _ := os.Open("/etc/hostname")
	b, _ := os.Open("/etc/passwd")
	defer a.Close()
	defer b.Close()
	bundle := e.bundle([]string{"sh", "-c", "testinit fds; echo LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"}, nil)
	out, errf := e.tempFile(), e.tempFile()
	// LISTEN_PID must be hako's pid: a shell sets it to its own, then
	// execs hako in its place.
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`, hakoBin, "--root", e.root, "run",
		"--preserve-fds", "1", "--bundle", bundle, e.id("fds"))
	cmd.ExtraFiles = []*os.File{a, b} // 3 (a listen fd) and 4 (preserved)
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v: %s", err, readAll(t, errf))
	}
	got := readAll(t, out)
	for _, want := range []string{"3=/etc/hostname\n", "4=/etc/passwd\n", "LISTEN_FDS=1 LISTEN_PID=1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "5=") {
		t.Errorf("a descriptor past the preserved ones:\n%s", got)
	}
}
