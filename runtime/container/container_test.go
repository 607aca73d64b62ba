package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// `hako spec` must write what `runc spec` writes (runc 1.1.5's output is
// in testdata), but for the spec version and the hostname.
func TestExampleIsRuncDefault(t *testing.T) {
	b, err := os.ReadFile("testdata/runc-1.1.5-spec.json")
	if err != nil {
		t.Fatal(err)
	}
	var want specs.Spec
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	got := Example()
	want.Version, want.Hostname = got.Version, got.Hostname
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(&want, "", " ")
	if string(g) != string(w) {
		t.Errorf("Example() differs from runc's default:\n%s\nwant\n%s", g, w)
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and ')'.
	line := "1234 (we ird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 100"
	start, state, err := parseStat(line)
	if err != nil || start != 987654 || state != 'S' {
		t.Errorf("parseStat = %d %c %v", start, state, err)
	}
	if _, _, err := parseStat("1 (x) S 1 2"); err == nil {
		t.Error("short stat line accepted")
	}
}

func TestPosition(t *testing.T) {
	b := []byte("{\n  \"a\": 1,\n  \"b\": ]\n}")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 1}, {2, 2, 1}, {17, 3, 5}, {20, 3, 8}} {
		if l, c := position(b, tc.off); l != tc.line || c != tc.col {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.off, l, c, tc.line, tc.col)
		}
	}
}

// The line and column a bad config's error names are those of the
// character at fault, whichever engine encoding/json runs on (a type
// error's: its value's first character on the v2 engine, its last on
// v1's; here, a one-character value, both are column 16).
func TestLoadSpecErrorPosition(t *testing.T) {
	for _, tc := range []struct{ config, want string }{
		{`{"a" 1}`, "line 1, column 6: "},
		{"{\n  \"ociVersion\": \"1.0.0\",\n  \"process\" {}\n}", "line 3, column 13: "},
		{`{"ociVersion": 5}`, "line 1, column 16: "},
		{"x", "line 1, column 1: "},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(tc.config), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSpec(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadSpec(%q): %v, want %q", tc.config, err, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string
	}{
		{"default", func(*specs.Spec) {}, ""},
		{"no_process", func(s *specs.Spec) { s.Process = nil }, "process is required"},
		{"no_args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args must not be empty"},
		{"relative_cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "is not absolute"},
		{"no_root", func(s *specs.Spec) { s.Root = nil }, "root.path is required"},
		{"no_linux", func(s *specs.Spec) { s.Linux = nil }, "linux section is required"},
		{"no_mount_ns_readonly_root", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:4]; s.Root.Readonly = true }, "root.readonly needs a mount namespace"},
		{"unknown_ns", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, `unknown namespace type "bogus"`},
		{"twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, `namespace "pid" listed twice`},
		{"join_path", func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "/proc/1/ns/net" }, ""},
		{"offsets_without_time_ns", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
		}, "timeOffsets need a time namespace"},
		{"bad_clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, `unknown clock "realtime"`},
		{"maps_without_userns", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "need a new user namespace"},
		{"join_userns_without_maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
		}, ""},
		{"userns_without_maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "a new user namespace needs uidMappings and gidMappings"},
		{"hostname_without_uts", func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}}
		}, "hostname needs a uts namespace"},
		{"seccomp", func(s *specs.Spec) { s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow} }, ""},
		{"hooks", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
		}, ""},
		{"several", func(s *specs.Spec) {
			s.Linux.IntelRdt = &specs.LinuxIntelRdt{}
			s.Linux.MountLabel = "x"
		}, "linux.intelRdt, linux.mountLabel not supported"},
		{"mappings_without_idmap", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/tmp", Type: "bind",
				UIDMappings: []specs.LinuxIDMapping{{Size: 1}}})
		}, "mount 7 (bind on /data): uidMappings and gidMappings need the idmap or ridmap option"},
		{"idmap_without_userns", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "/tmp", Type: "bind", Options: []string{"bind", "idmap"}})
		}, "mount /data: idmap without uidMappings needs the container to have a user namespace"},
		{"bad_option_mix", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Source: "tmpfs", Type: "tmpfs", Options: []string{"ridmap"}})
		}, "idmap and ridmap need a bind mount"},
		{"sysctl_net", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} }, ""},
		{"sysctl_ipc", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1", "fs.mqueue.msg_max": "5"}
		}, ""},
		{"sysctl_host_only", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }, `sysctl "vm.swappiness" is not namespaced`},
		{"sysctl_host_net", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UTSNamespace}}
		}, `needs the container's own network namespace`},
		{"sysctl_joined_host_net", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
		}, `needs the container's own network namespace`},
		{"sysctl_path", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../../x": "1"} }, "not a sysctl name"},
		{"time_ns", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 100}}
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Example()
			tc.edit(s)
			err := validate(s)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCgroupPath(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"", "/hako/c1", ""},
		{"/custom/place", "/custom/place", ""},
		{"rel/x", "/hako/rel/x", ""},
		{"system.slice:hako:c1", "", "systemd driver"},
	} {
		s := Example()
		s.Linux.CgroupsPath = tc.in
		got, err := cgroupPath(s, "c1")
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("cgroupPath(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"9": unix.SIGKILL, "KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "kill": unix.SIGKILL,
		"TERM": unix.SIGTERM, "hup": unix.SIGHUP, "SIGRTMIN+1": -1, "0": 0, "65": -1, "-1": -1, "nope": -1,
	} {
		// -1: refused; 0 is the existence check.
		got, err := ParseSignal(in)
		if (want == -1) != (err != nil) || (want != -1 && got != want) {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestCheckID(t *testing.T) {
	for id, ok := range map[string]bool{
		"web1": true, "a.b-c_d+e": true, "": false, ".": false, "..": false, "a/b": false, "../x": false, "a b": false,
		"Z9": true, "...": true, "é": false, "a\n": false, "a:b": false,
	} {
		if err := checkID(id); (err == nil) != ok {
			t.Errorf("checkID(%q) = %v", id, err)
		}
	}
}

func TestResourcesAppendsDefaultDeviceRules(t *testing.T) {
	s := Example()
	s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}
	r := resources(s)
	if len(r.Devices) < 3 || r.Devices[0].Allow || !r.Devices[1].Allow {
		t.Fatalf("device rules = %+v", r.Devices)
	}
	last := r.Devices[len(r.Devices)-1]
	if !last.Allow || last.Type != "c" || *last.Major != 10 || *last.Minor != 229 {
		t.Errorf("configured device not allowed: %+v", last)
	}
	if !reflect.DeepEqual(s.Linux.Resources.Devices, Example().Linux.Resources.Devices) {
		t.Error("resources() changed the spec's own rules")
	}
}

func TestToRootless(t *testing.T) {
	s := Example()
	ToRootless(s, 1000, 1001)
	kinds := map[specs.LinuxNamespaceType]bool{}
	for _, n := range s.Linux.Namespaces {
		kinds[n.Type] = true
	}
	if !kinds[specs.UserNamespace] || kinds[specs.NetworkNamespace] || !kinds[specs.MountNamespace] {
		t.Errorf("namespaces %+v", s.Linux.Namespaces)
	}
	if m := s.Linux.UIDMappings; len(m) != 1 || m[0].HostID != 1000 || m[0].ContainerID != 0 || s.Linux.GIDMappings[0].HostID != 1001 {
		t.Errorf("maps %+v %+v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys" && (m.Source != "/sys" || m.Options[0] != "rbind") {
			t.Errorf("/sys: %+v", m)
		}
		for _, o := range m.Options {
			if strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid=") {
				t.Errorf("%s keeps %s", m.Destination, o)
			}
		}
	}
	if s.Linux.Resources != nil {
		t.Error("cgroup limits kept")
	}
	if err := validate(s); err != nil {
		t.Errorf("the rootless config is refused: %v", err)
	}
}

// runc's default device rules: the default nodes, and mknod of any node.
func TestDefaultDeviceRules(t *testing.T) {
	r := resources(Example())
	has := func(typ string, major, minor int64, access string) bool {
		for _, d := range r.Devices {
			if d.Allow && d.Type == typ && d.Access == access &&
				((d.Major == nil && major < 0) || (d.Major != nil && *d.Major == major)) &&
				((d.Minor == nil && minor < 0) || (d.Minor != nil && *d.Minor == minor)) {
				return true
			}
		}
		return false
	}
	for _, w := range []struct {
		typ          string
		major, minor int64
		access       string
	}{{"c", -1, -1, "m"}, {"b", -1, -1, "m"}, {"c", 1, 3, "rwm"}, {"c", 136, -1, "rwm"}, {"c", 10, 200, "rwm"}, {"c", 5, 2, "rwm"}} {
		if !has(w.typ, w.major, w.minor, w.access) {
			t.Errorf("no rule %+v in %+v", w, r.Devices)
		}
	}
}
