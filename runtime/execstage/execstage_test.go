//go:build cgo

package execstage

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func valid() *Plan {
	return &Plan{
		Kind: Exec, Sync: 3, Fifo: 4, Master: -1, PreserveFrom: 5, Preserve: 2, NoNewPrivs: true,
		Keyring: "_ses.x", Creds: true, UID: 1000, GID: 1000, Groups: []uint32{10, 20},
		Caps: true, LastCap: 40, Bounding: 1<<40 | 1, Effective: 1, Permitted: 1, Inheritable: 0, Ambient: 0,
		Cwd: "/home", SetUmask: true, Umask: 0o027, Affinity: []byte{3, 0, 0, 0, 0, 0, 0, 0},
		BPF: bytes.Repeat([]byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, 3), SeccompFlags: 1,
		Path: "/bin/sh", Args: []string{"sh", "-c", ""}, Env: []string{"PATH=/bin", "HOME=/"},
	}
}

func validInit() *Plan {
	p := valid()
	p.Kind, p.Path, p.Setup = Init, "", &Setup{
		Steps: []Step{
			{Kind: RootPropagation, Flags: 1 << 19},
			{Kind: BindRootfs, Source: "/b/rootfs", Flags: 4096 | 16384},
			{Kind: Mount, Source: "proc", Target: "/proc", Type: "proc", Flags: 14},
			{Kind: Mknod, Target: "/dev/null", DevMode: 0o20666, DevMajor: 1, DevMinor: 3, UID: -1, GID: 5},
			{Kind: Symlink, Target: "/dev/fd", Link: "/proc/self/fd"},
			{Kind: SetAttr, Target: "/sys", AttrSet: 1, AttrClr: 2},
			{Kind: Remount, Target: "/", Flags: 1, Clear: 2},
			{Kind: PivotRoot, Source: "/b/rootfs"},
			{Kind: HostSettings},
			{Kind: MaskPath, Target: "/proc/kcore"},
		},
		Hostname: "h", Sysctls: [][2]string{{"/proc/sys/kernel/msgmax", "8192"}},
		Candidates: []string{"/bin/sh", "sh"}, Home: true, Quoted: `"sh"`,
	}
	return p
}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, p := range []*Plan{valid(), {Kind: Wait, Sync: 3, Fifo: 4, Master: 7, Path: "/x", Args: []string{"x"}}, validInit()} {
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := parse(b)
		if err != nil {
			t.Fatalf("C parser refused Encode's plan: %v", err)
		}
		want := parsed{p.Path, p.Cwd, p.Keyring, p.Args, p.Env, p.Groups, p.Affinity, p.Setup}
		if want.env == nil {
			want.env = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parsed %+v, want %+v", got, want)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, mod := range map[string]func(*Plan){
		"no path":      func(p *Plan) { p.Path = "" },
		"no args":      func(p *Plan) { p.Args = nil },
		"NUL in env":   func(p *Plan) { p.Env = []string{"A=\x00"} },
		"NUL in cwd":   func(p *Plan) { p.Cwd = "/\x00" },
		"partial insn": func(p *Plan) { p.BPF = p.BPF[:5] },
		"long program": func(p *Plan) { p.BPF = make([]byte, 8*(maxBPF+1)) },
		"last cap":     func(p *Plan) { p.LastCap = 64 },
		"umask":        func(p *Plan) { p.Umask = 0o1000 },
		"setup, exec":  func(p *Plan) { p.Setup = validInit().Setup },
	} {
		p := valid()
		mod(p)
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: Encode took it", name)
		}
	}
}

// TestParseRefuses: the C parser takes nothing but a whole, consistent
// plan (it runs in the container, before any Go).
func TestParseRefuses(t *testing.T) {
	good, err := valid().Encode()
	if err != nil {
		t.Fatal(err)
	}
	strs := hdrLen + 3*8 + 2*4 + 8 // where the strings start
	set := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.NativeEndian.PutUint32(b[off:], v); return b }
	}
	for _, tc := range []struct {
		name, want string
		mod        func([]byte) []byte
	}{
		{"empty", "short header", func(b []byte) []byte { return nil }},
		{"magic", "bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"version", "unknown version", set(4, 1)},
		{"kind", "unknown kind", set(8, 3)},
		{"kind init without setup", "setup with the wrong kind", set(8, 2)},
		{"sync fd", "bad descriptor", set(12, 0xffffffff)},
		{"master fd", "bad descriptor", set(20, 0xfffffffe)},
		{"preserve count", "bad descriptor", set(28, 0xffffffff)},
		{"flags", "unknown flags", set(32, 256)},
		{"bpf length", "seccomp program too long", set(40, maxBPF+1)},
		{"bpf length vs size", "length mismatch", set(40, 2)},
		{"groups", "bad process settings", set(52, maxGroups+1)},
		{"umask", "bad process settings", set(56, 0o1000)},
		{"last cap", "bad process settings", set(60, 64)},
		{"affinity", "bad process settings", set(104, maxAffinity+1)},
		{"no args", "bad argument count", set(108, 0)},
		{"arg count", "string count mismatch", set(108, 2)},
		{"truncated", "length mismatch", func(b []byte) []byte { return b[:len(b)-1] }},
		{"trailing", "length mismatch", func(b []byte) []byte { return append(b, 0) }},
		{"unterminated", "unterminated string", func(b []byte) []byte { b[len(b)-1] = 'x'; return b }},
		// "/bin/sh" -> "", "bin/sh": one string more, counted as env.
		{"empty path", "empty path", func(b []byte) []byte { b[strs] = 0; return set(112, 3)(b) }},
	} {
		b := tc.mod(append([]byte(nil), good...))
		_, err := parse(b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEncodeRefusesSetup(t *testing.T) {
	for name, mod := range map[string]func(*Plan){
		"path given":    func(p *Plan) { p.Path = "/bin/sh" },
		"no setup":      func(p *Plan) { p.Setup = nil },
		"no candidates": func(p *Plan) { p.Setup.Candidates = nil },
		"unknown step":  func(p *Plan) { p.Setup.Steps[0].Kind = stepKinds },
		"NUL in target": func(p *Plan) { p.Setup.Steps[2].Target = "/pr\x00oc" },
	} {
		p := validInit()
		mod(p)
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: Encode took it", name)
		}
	}
}

// TestParseRefusesSetup: the setup section, too, is taken whole and
// consistent only.
func TestParseRefusesSetup(t *testing.T) {
	good, err := validInit().Encode()
	if err != nil {
		t.Fatal(err)
	}
	setup := len(good) - int(binary.NativeEndian.Uint32(good[120:]))
	set := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.NativeEndian.PutUint32(b[setup+off:], v); return b }
	}
	for _, tc := range []struct {
		name, want string
		mod        func([]byte) []byte
	}{
		{"step count", "setup length mismatch", set(0, 9)},
		{"too many steps", "bad setup counts", set(0, 1<<17)},
		{"no candidates", "bad setup counts", set(8, 0)},
		{"flags", "bad setup counts", set(12, 2)},
		{"strings length", "setup length mismatch", set(16, 3)},
		{"sysctl count", "setup string count mismatch", set(4, 2)},
		{"step kind", "unknown mount step", set(setupHdrLen, uint32(stepKinds))},
		{"unterminated", "unterminated setup string", func(b []byte) []byte { b[len(b)-1] = 'x'; return b }},
		{"setup length", "length mismatch", func(b []byte) []byte {
			binary.NativeEndian.PutUint32(b[120:], uint32(len(b)+1))
			return b
		}},
	} {
		b := tc.mod(append([]byte(nil), good...))
		_, err := parse(b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, _ := valid().Encode()
	f.Add(good)
	if init, err := validInit().Encode(); err == nil {
		f.Add(init)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parse(b) // must not crash or read past b (run under -asan)
	})
}

// TestCleanPath holds the stage's lexical clean to filepath.Clean's.
func TestCleanPath(t *testing.T) {
	for _, p := range []string{"/", "//", "/.", "/..", "/a", "/a/", "/a//b", "/a/./b", "/a/../b", "/../a", "/a/b/../../..",
		"/dev/tty", "/a/b/c/..", "/.../..a/a..", "/a/.b/./", "/x/y/../../z/"} {
		if got, want := cleanPath(p), filepath.Clean(p); got != want {
			t.Errorf("clean %q: %q, want %q", p, got, want)
		}
	}
	for _, p := range []string{"", "a", "ab/..", "./x"} {
		if got := cleanPath(p); got != "not absolute" {
			t.Errorf("clean %q: %q, want a refusal", p, got)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	f.Add("/a/../b/./c//")
	f.Fuzz(func(t *testing.T, p string) {
		if strings.IndexByte(p, 0) >= 0 {
			return
		}
		p = "/" + p
		if got, want := cleanPath(p), filepath.Clean(p); got != want {
			t.Errorf("clean %q: %q, want %q", p, got, want)
		}
	})
}

// The stage words every errno as Go does (errnotext.h, generated from
// syscall.Errno), whatever the C library's strerror says.
func TestCauseIsGos(t *testing.T) {
	for e := range 300 {
		if got, want := cause(e), syscall.Errno(e).Error(); got != want {
			t.Errorf("errno %d: %q, want %q", e, got, want)
		}
	}
}

// Needed is Syscalls less what only the other C library calls: every
// name in it is in Syscalls, and none of the other library's only ones.
func TestNeeded(t *testing.T) {
	other := onlyGlibc
	if Glibc {
		other = onlyMusl
	}
	all := map[string]bool{}
	for _, c := range Syscalls {
		all[c.Name] = true
	}
	for _, name := range append(append([]string{}, onlyGlibc...), onlyMusl...) {
		if !all[name] {
			t.Errorf("%s is not in Syscalls", name)
		}
	}
	for _, c := range Needed() {
		if slices.Contains(other, c.Name) {
			t.Errorf("Needed has %s, which only the other C library calls", c.Name)
		}
	}
	if len(Needed()) != len(Syscalls)-countIn(Syscalls, other) {
		t.Errorf("Needed has %d calls of %d", len(Needed()), len(Syscalls))
	}
}

func countIn(calls []Call, names []string) int {
	n := 0
	for _, c := range calls {
		if slices.Contains(names, c.Name) {
			n++
		}
	}
	return n
}
