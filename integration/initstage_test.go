package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestInitWithoutGo: a container whose config allows it is set up by the
// C exec stage alone (kind Init: no Go runtime ever starts in the
// container), and comes out as a Go init sets it up. Each config runs
// twice, as given and with a scheduler setting that changes nothing
// (SCHED_OTHER) but needs the Go init; the probe's reports (mounts,
// devices, ids, capabilities, seccomp, umask, cwd, environment, host
// settings) must match, and strace must show which init started Go.
// Where the stage fails (a program that is not there) the Go init redoes
// the setup, and the error is the Go init's.
func TestInitWithoutGo(t *testing.T) {
	if out, err := exec.Command("../hack/setup.sh", "strace").CombinedOutput(); err != nil {
		t.Fatalf("install strace: %v\n%s", err, out)
	}
	e := newEnv(t)
	probe := "testinit ids; testinit caps; testinit seccomp; testinit cwd; testinit env | sort; testinit rlimits; " +
		"testinit fds; testinit keyring; testinit hostname; cat /proc/sys/kernel/domainname /proc/sys/kernel/msgmax; " +
		"grep -E '^(Umask|Cpus_allowed_list|NoNewPrivs)' /proc/self/status; " +
		"cut -d' ' -f4- /proc/self/mountinfo; stat -c '%N %F %a %u:%g %t:%T' /dev/* /mnt/* 2>&1; mkdir /tmp/x 2>&1; true"
	host := hostDir(t)
	hostFile := filepath.Join(host, "file")
	if err := os.WriteFile(hostFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	umask := uint32(0o027)
	hookDir := t.TempDir()
	userns := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
		// image prepares the rootfs.
		image   func(rootfs string)
		wantOut string
	}{
		{name: "plain", wantOut: "uid=0"},
		{name: "user_caps_umask_cwd", edit: func(s *specs.Spec) {
			p := s.Process
			p.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 7}, Umask: &umask}
			p.Cwd, p.NoNewPrivileges = "/tmp", true
			p.Env = []string{"PATH=/bin:/usr/bin", "A=b"} // no HOME: looked up
			p.Capabilities = &specs.LinuxCapabilities{
				Bounding: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, Effective: []string{"CAP_KILL"},
				Permitted: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}, Inheritable: []string{"CAP_NET_BIND_SERVICE"},
				Ambient: []string{"CAP_NET_BIND_SERVICE"},
			}
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 512, Soft: 256}}
			p.ExecCPUAffinity = &specs.CPUAffinity{Final: "0"}
		}, wantOut: "uid=1000"},
		{name: "mounts_devices_paths", edit: func(s *specs.Spec) {
			s.Root.Readonly = true
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: host, Options: []string{"rbind", "ro", "nosuid"}},
				specs.Mount{Destination: "/mnt/file", Type: "bind", Source: hostFile, Options: []string{"bind"}},
				specs.Mount{Destination: "/mnt/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "noexec"}},
				specs.Mount{Destination: "/etc/img", Type: "tmpfs", Source: "tmpfs", Options: []string{"rprivate"}})
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/my/zero", Type: "c", Major: 1, Minor: 5,
				FileMode: fileMode(0o640), UID: u32(7), GID: u32(8)})
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/hostname", "/mnt/ro", "/nothere")
			s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/tmp", "/nothere")
			s.Linux.RootfsPropagation = "rslave" // "private" and "shared" need the Go init
		}, image: func(rootfs string) { os.MkdirAll(filepath.Join(rootfs, "etc/img"), 0o750) }, wantOut: "/mnt/t"},
		{name: "hostname_sysctls_seccomp", edit: func(s *specs.Spec) {
			s.Hostname, s.Domainname = "box", "example.org"
			s.Linux.Sysctl = map[string]string{"kernel.msgmax": "4096", "net.ipv4.ip_forward": "1"}
			s.Process.NoNewPrivileges = false // the filter is loaded early
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat", "mkdir"}, Action: specs.ActErrno}}}
		}, wantOut: "example.org"},
		{name: "user_namespace", edit: userns, wantOut: "uid=0"},
		// Run by hako between the mounts and pivot_root: a prestart hook
		// sees the container's mounts through its pid's root.
		{name: "prestart_and_createRuntime_hooks", edit: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{
				Prestart: []specs.Hook{hook(`pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/'); ` +
					`grep -c ' /proc ' /proc/$pid/mountinfo >> ` + filepath.Join(hookDir, "prestart"))},
				CreateRuntime: []specs.Hook{hook("cat > /dev/null; echo ran >> " + filepath.Join(hookDir, "createRuntime"))},
			}
		}, wantOut: "uid=0"},
		// Mount targets reached through links of the image, dangling
		// ones too, are made where the links point, inside the root.
		{name: "mounts_through_links", edit: func(s *specs.Spec) {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: "/lnk/sub", Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: "/rel/a/b", Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: "/up/c", Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: "/dl", Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: "/mnt/f", Type: "bind", Source: hostFile, Options: []string{"bind"}})
		}, image: func(rootfs string) {
			os.Symlink("/opt/x", filepath.Join(rootfs, "lnk"))       // dangling, absolute
			os.Symlink("opt/../srv/y", filepath.Join(rootfs, "rel")) // dangling, relative, through ".."
			os.Symlink("../../..", filepath.Join(rootfs, "up"))      // ".." never climbs above the root
			os.Symlink("/opt/z", filepath.Join(rootfs, "dl"))        // dangling, the target itself
			os.MkdirAll(filepath.Join(rootfs, "mnt"), 0o755)
			os.Symlink("../../../escaped", filepath.Join(rootfs, "mnt/f")) // a dangling file target
		}, wantOut: "/opt/x/sub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outs [2]string
			for i, goInit := range []bool{false, true} {
				bundle := e.bundle([]string{"sh", "-c", probe}, func(s *specs.Spec) {
					if tc.edit != nil {
						tc.edit(s)
					}
					if goInit {
						goInitOnly(s)
					}
				})
				if tc.image != nil {
					tc.image(filepath.Join(bundle, "rootfs"))
				}
				for d := bundle; d != os.TempDir(); d = filepath.Dir(d) {
					os.Chmod(d, 0o755) // for the user namespace's root
				}
				id := e.id(tc.name)
				trace := filepath.Join(t.TempDir(), "trace")
				cmd := exec.Command("strace", "-f", "-qq", "-o", trace, "-e", "trace=execve,sigaltstack",
					hakoBin, "--debug", "--root", e.root, "run", "--bundle", bundle, id)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("run (Go init %v): %v\n%s", goInit, err, stderr.String())
				}
				outs[i] = strings.ReplaceAll(strings.ReplaceAll(stdout.String(), id, "ID"), bundle, "BUNDLE")
				outs[i] = regexp.MustCompile(`pipe:\[\d+\]`).ReplaceAllString(outs[i], "pipe")
				if strings.Contains(stderr.String(), "redoing its setup with the Go init") {
					t.Errorf("setup redone by the Go init:\n%s", stderr.String())
				}
				if started := goStartedBefore(t, trace, `"/bin/sh"`); started != goInit {
					t.Errorf("Go runtime started in the init: %v, want %v\n%s", started, goInit, stderr.String())
				}
			}
			if outs[0] != outs[1] {
				t.Errorf("init without Go and Go init differ:\n--- without\n%s--- Go\n%s", outs[0], outs[1])
			}
			if tc.name == "prestart_and_createRuntime_hooks" {
				// Once per run, each time with /proc mounted (the
				// container's mounts made before the hooks).
				for name, want := range map[string]string{"prestart": "1\n1\n", "createRuntime": "ran\nran\n"} {
					if b, _ := os.ReadFile(filepath.Join(hookDir, name)); string(b) != want {
						t.Errorf("%s hook's record %q, want %q", name, b, want)
					}
				}
			}
			if !strings.Contains(outs[0], tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, outs[0])
			}
		})
	}
	// A program not found: found missing by the stage, reported by the
	// Go init; with prestart hooks (which must not run twice), by the
	// stage, in exec.LookPath's words too.
	t.Run("errors", func(t *testing.T) {
		for _, hooked := range []bool{false, true} {
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"nosuch"}, `exec: "nosuch": executable file not found in $PATH`},
				{[]string{"/nosuch"}, `exec: "/nosuch": stat /nosuch: no such file or directory`},
				{[]string{"/etc"}, `exec: "/etc": is a directory`},
				{[]string{"/etc/passwd"}, `exec: "/etc/passwd": permission denied`},
				{[]string{"no\tsuch"}, `exec: "no\tsuch": executable file not found in $PATH`},
			} {
				record := filepath.Join(t.TempDir(), "prestart")
				before := e.snapshot()
				r := e.hako("--debug", "run", "--bundle", e.bundle(tc.args, func(s *specs.Spec) {
					if hooked {
						s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("cat > /dev/null; echo ran >> " + record)}}
					}
				}), e.id("err"))
				if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
					t.Errorf("run %v (hooks %v): %+v, want %q", tc.args, hooked, r, tc.want)
				}
				if redone := strings.Contains(r.stderr, "redoing its setup with the Go init"); redone == hooked {
					t.Errorf("run %v (hooks %v): setup redone by the Go init: %v\n%s", tc.args, hooked, redone, r.stderr)
				}
				if b, _ := os.ReadFile(record); hooked && string(b) != "ran\n" {
					t.Errorf("run %v: prestart hook's record %q, want one run", tc.args, b)
				}
				e.sameAs(before)
			}
		}
	})
}

// goInitOnly adds a scheduler setting that changes nothing
// (SCHED_OTHER) but that only the Go init carries: the config then takes
// it, for a test to hold the init without Go to it.
func goInitOnly(s *specs.Spec) {
	s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther}
}

// withoutProc drops the config's proc mount and what needs /proc after
// pivot_root (masked and read-only paths).
func withoutProc(s *specs.Spec) {
	var mounts []specs.Mount
	for _, m := range s.Mounts {
		if m.Type != "proc" {
			mounts = append(mounts, m)
		}
	}
	s.Mounts, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = mounts, nil, nil
}

func fileMode(m os.FileMode) *os.FileMode { return &m }

func u32(v uint32) *uint32 { return &v }

// A waiting init is named for ps and top: the kernel names a process
// after the descriptor its binary was executed through ("22", the sealed
// binary's), which says nothing. With the C stage, and after a Go init's
// setup (its re-execution into the stage) alike; where a filter the Go
// init loaded before that re-execution (with no_new_privs too: the stage
// must not run unfiltered) would kill the naming prctl, the stage goes
// unnamed rather than killed. An exec under such a filter is named before
// the filter is loaded, and runs.
func TestInitName(t *testing.T) {
	e := newEnv(t)
	killer := func(nnp bool) func(*specs.Spec) { return prctlKiller(unix.PR_SET_NAME, nnp) }
	for _, tc := range []struct {
		name, want string // want "": unnamed, the kernel's name (the binary's, or the descriptor's)
		edit       func(*specs.Spec)
	}{
		{"stage", "hako:[init]", nil},
		{"go_init", "hako:[init]", goInitOnly},
		{"early_filter", "hako:[init]", killer(false)},
		{"early_filter_go_init", "", func(s *specs.Spec) { killer(false)(s); goInitOnly(s) }},
		{"late_filter", "hako:[init]", killer(true)},
		{"late_filter_go_init", "", func(s *specs.Spec) { killer(true)(s); goInitOnly(s) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := e.id("name-" + tc.name)
			e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, tc.edit), id)
			defer e.hako("delete", "--force", id)
			b, err := os.ReadFile("/proc/" + strconv.Itoa(e.state(id).Pid) + "/comm")
			got := strings.TrimSpace(string(b))
			if err != nil || tc.want == "" && got == "hako:[init]" || tc.want != "" && got != tc.want {
				t.Errorf("waiting init's name %q (%v), want %q", got, err, tc.want)
			}
			e.mustHako("start", id)
			e.mustHako("exec", id, "true")
		})
	}
}
