//go:build cgo

package seccomp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// testProfile denies by default, allows a few calls (one with an
// argument condition), notifies none, and names one syscall no
// libseccomp knows.
func testProfile() *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "mkdir", "no_such_call_hako"}, Action: specs.ActAllow},
			{Names: []string{"kill"}, Action: specs.ActErrno, ErrnoRet: u(13), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 9, Op: specs.OpEqualTo}}},
		},
	}
}

func program(t *testing.T, f *Filter) []byte {
	t.Helper()
	b, _, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStoredFilter(t *testing.T) {
	f, _, err := Compile(testProfile(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	g, err := UnmarshalFilter(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(program(t, f), program(t, g)) || g.flags != f.flags || g.nnp != f.nnp || g.notify != f.notify {
		t.Fatal("stored filter differs from the compiled one")
	}
	for _, call := range []string{"read", "getcwd", "io_uring_setup"} {
		want, _ := f.Check(call)
		if got, err := g.Check(call); err != nil || got != want {
			t.Errorf("stored Check(%s) = %q, %v; want %q", call, got, err, want)
		}
	}
	if got, _ := g.Check("kill", 1, 9); got != "SCMP_ACT_ERRNO(13)" {
		t.Errorf("stored Check(kill 1 9) = %q", got)
	}
	if _, err := g.PFC(); err == nil {
		t.Error("PFC of a stored filter succeeded")
	}
	g.Release() // nothing to free: must not crash

	for name, bad := range map[string][]byte{
		"empty":        nil,
		"magic":        append([]byte("xsf1"), b[4:]...),
		"short":        b[:len(b)-1],
		"long":         append(append([]byte(nil), b...), 0),
		"no program":   append(append([]byte(nil), b[:9]...), 0, 0, 0, 0),
		"header only":  b[:storedHeader-1],
		"huge program": append(append([]byte(nil), b[:9]...), 0xff, 0xff, 0, 0),
	} {
		if _, err := UnmarshalFilter(bad); err == nil {
			t.Errorf("%s: UnmarshalFilter succeeded", name)
		}
	}
}

func TestCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := Cache{Dir: dir}
	p := testProfile()
	first, skipped, err := c.Compile(p, true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	if first.f == nil {
		t.Fatal("first Compile came from an entry")
	}
	if !reflect.DeepEqual(skipped, []string{"no_such_call_hako"}) {
		t.Errorf("skipped = %q", skipped)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir: %v, %v", st, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d entries after one Compile", len(ents))
	}
	entryPath := filepath.Join(dir, ents[0].Name())

	hit := func(want bool, what string) {
		t.Helper()
		f, sk, err := c.Compile(p, true)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Release()
		if got := f.f == nil; got != want {
			t.Errorf("%s: from the cache %v, want %v", what, got, want)
		}
		if !bytes.Equal(program(t, f), program(t, first)) || !reflect.DeepEqual(sk, skipped) || f.nnp != first.nnp {
			t.Errorf("%s: filter or skipped names differ from the compiled ones", what)
		}
	}
	hit(true, "second Compile")

	// Damaged, or writable by others: compiled again, and replaced.
	b, _ := os.ReadFile(entryPath)
	os.WriteFile(entryPath, b[:len(b)/2], 0o600)
	hit(false, "truncated entry")
	hit(true, "entry rewritten")
	os.Chmod(entryPath, 0o622)
	hit(false, "group-writable entry")
	hit(true, "entry rewritten")

	// Anything that decides the program is in the key.
	other := testProfile()
	other.Syscalls[0].Names = append(other.Syscalls[0].Names, "getpid")
	for name, compile := range map[string]func() (*Filter, []string, error){
		"no_new_privs": func() (*Filter, []string, error) { return c.Compile(p, false) },
		"profile":      func() (*Filter, []string, error) { return c.Compile(other, true) },
	} {
		f, _, err := compile()
		if err != nil {
			t.Fatal(err)
		}
		if f.f == nil {
			t.Errorf("another %s came from the first profile's entry", name)
		}
		f.Release()
	}

	// Get stores nothing until put.
	fresh := testProfile()
	fresh.DefaultErrnoRet = u(2)
	for i, want := range []bool{false, false, true} {
		f, _, put, err := c.Get(fresh, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.f == nil; got != want {
			t.Errorf("Get #%d: from the cache %v, want %v", i+1, got, want)
		}
		f.Release()
		if i == 1 {
			put()
		}
	}

	// A bad profile is an error, cached or not.
	if _, _, err := c.Compile(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}, true); err == nil {
		t.Error("bad profile compiled")
	}
}

// A directory others may write to is not used: they could swap entries.
func TestCacheDirNotPrivate(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	c := Cache{Dir: dir}
	for range 2 {
		f, _, err := c.Compile(testProfile(), true)
		if err != nil {
			t.Fatal(err)
		}
		if f.f == nil {
			t.Error("a filter came from a directory anyone may write")
		}
		f.Release()
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d entries written to a directory anyone may write", len(ents))
	}
}

// A full directory loses only entries (keys, temporary files) when a new
// one is stored: other files in it stay.
func TestCacheEviction(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	for i := range maxEntries {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%064x", i)), nil, 0o600)
	}
	os.WriteFile(filepath.Join(dir, "keep.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".tmp-1234"), nil, 0o600)
	f, _, err := Cache{Dir: dir}.Compile(testProfile(), true)
	if err != nil {
		t.Fatal(err)
	}
	f.Release()
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || !slices.Contains(names, "keep.txt") || !isEntry(names[0]) && !isEntry(names[1]) {
		t.Errorf("after eviction: %v, want keep.txt and the new entry", names)
	}
}

// Which listener a profile names, and what it is told, share an entry.
func TestCacheKeyListener(t *testing.T) {
	a, b := testProfile(), testProfile()
	a.ListenerPath, a.ListenerMetadata = "/run/a.sock", "one"
	b.ListenerPath, b.ListenerMetadata = "/run/b.sock", "two"
	ka, err := cacheKey(a, true)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := cacheKey(b, true)
	kn, _ := cacheKey(testProfile(), true)
	if ka != kb || ka == kn {
		t.Errorf("keys: listeners a %s b %s, none %s: want a == b != none", ka, kb, kn)
	}
	if a.ListenerPath != "/run/a.sock" || a.ListenerMetadata != "one" {
		t.Error("cacheKey changed the caller's profile")
	}
}
