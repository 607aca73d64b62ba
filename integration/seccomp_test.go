package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSeccomp(t *testing.T) {
	e := newEnv(t)
	errno := func(v uint) *uint { return &v }
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},                        // EPERM
			{Names: []string{"unlink", "unlinkat"}, Action: specs.ActErrno, ErrnoRet: errno(38)}, // ENOSYS
			{Names: []string{"a_syscall_from_the_future"}, Action: specs.ActErrno},               // skipped
			// kill with signal 0 only (arg 1 is the signal).
			{Names: []string{"kill"}, Action: specs.ActErrno, ErrnoRet: errno(1),
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
		},
	}
	for _, nnp := range []bool{true, false} {
		name := map[bool]string{true: "no_new_privs", false: "without_no_new_privs"}[nnp]
		t.Run(name, func(t *testing.T) {
			r := e.hako("run", "--bundle", e.bundle([]string{"sh", "-c",
				"mkdir /dev/shm/x 2>&1; touch /dev/shm/f; rm /dev/shm/f 2>&1; kill -0 $$ 2>&1 || echo kill0-denied; kill -CONT $$ && echo cont-ok; testinit seccomp"},
				func(s *specs.Spec) {
					s.Linux.Seccomp = profile
					s.Process.NoNewPrivileges = nnp
				}), e.id(name))
			if r.code != 0 {
				t.Fatalf("run: %+v", r)
			}
			for _, want := range []string{
				"Operation not permitted",  // mkdir
				"Function not implemented", // rm
				"kill0-denied\n",           // kill(pid, 0) refused by the argument rule
				"cont-ok\n",                // kill(pid, SIGCONT) is not
				"Seccomp:\t2",              // filter mode
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if nnp != strings.Contains(r.stdout, "NoNewPrivs:\t1") {
				t.Errorf("no_new_privs %v not as configured:\n%s", nnp, r.stdout)
			}
		})
	}
	t.Run("kill_process", func(t *testing.T) {
		r := e.hako("run", "--bundle", e.bundle([]string{"testinit", "ids"}, func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"getgroups"}, Action: specs.ActKillProcess}}}
		}), e.id("kill"))
		if r.code != 128+31 { // SIGSYS
			t.Errorf("exit %d, want %d (killed by SIGSYS): %+v", r.code, 128+31, r)
		}
	})
}

func TestSeccompTrapAndLog(t *testing.T) {
	e := newEnv(t)
	r := e.hako("run", "--bundle", e.bundle([]string{"id"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"getgroups"}, Action: specs.ActTrap}}}
	}), e.id("trap"))
	if r.code != 128+31 { // SIGSYS, unhandled by busybox
		t.Errorf("TRAP: exit %d, want %d: %+v", r.code, 128+31, r)
	}
	r = e.hako("run", "--bundle", e.bundle([]string{"sh", "-c", "mkdir /dev/shm/logged && echo allowed"}, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActLog}}}
	}), e.id("log"))
	if r.code != 0 || r.stdout != "allowed\n" {
		t.Errorf("LOG lets the call through: %+v", r)
	}
}

// A compiled profile is kept in $HAKO_SECCOMP_CACHE and used again: the
// second container's filter comes from the entry (not rewritten) and
// filters the same; a create that fails keeps nothing; an exec loads the
// filter create kept in the state directory, or, without the config's
// no_new_privs, one with a cache entry of its own; "off" keeps nothing.
func TestSeccompCache(t *testing.T) {
	e := newEnv(t)
	profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: func(v uint) *uint { return &v }(13)},
	}}
	with := func(extra func(*specs.Spec)) func(*specs.Spec) {
		return func(s *specs.Spec) {
			s.Linux.Seccomp = profile
			if extra != nil {
				extra(s)
			}
		}
	}
	cache := filepath.Join(t.TempDir(), "seccomp")
	t.Setenv("HAKO_SECCOMP_CACHE", cache)
	entries := func() []string {
		ents, _ := os.ReadDir(cache)
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
		}
		return names
	}

	r := e.hako("run", "--bundle", e.bundle([]string{"true"}, with(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "bind", Source: "/nonexistent-hako", Options: []string{"bind"}})
	})), e.id("bad"))
	if r.code == 0 {
		t.Fatalf("run with a missing bind source succeeded: %+v", r)
	}
	if n := entries(); len(n) != 0 {
		t.Errorf("a failed create left cache entries: %v", n)
	}

	bundle := e.bundle([]string{"sh", "-c", "mkdir /dev/shm/x 2>&1; true"}, with(nil))
	var first os.FileInfo
	for i := range 2 {
		r := e.hako("run", "--bundle", bundle, e.id(fmt.Sprintf("run%d", i)))
		if r.code != 0 || !strings.Contains(r.stdout, "Permission denied") {
			t.Fatalf("run %d: mkdir not refused with EACCES: %+v", i, r)
		}
		n := entries()
		if len(n) != 1 {
			t.Fatalf("run %d: cache entries %v, want one", i, n)
		}
		st, err := os.Stat(filepath.Join(cache, n[0]))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = st
		} else if !os.SameFile(first, st) || !st.ModTime().Equal(first.ModTime()) {
			t.Error("second run rewrote the entry instead of using it")
		}
	}

	id := e.id("exec")
	e.mustHako("run", "--detach", "--bundle", e.bundle([]string{"testinit", "sleep"}, with(nil)), id)
	// An exec with the config's no_new_privs loads the filter create kept
	// in the state directory: no cache needed.
	if _, err := os.Stat(filepath.Join(e.root, id, "seccomp.filter")); err != nil {
		t.Errorf("no compiled filter in the state directory: %v", err)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	t.Setenv("HAKO_SECCOMP_CACHE", fresh)
	if r := e.hako("exec", id, "sh", "-c", "mkdir /dev/shm/z 2>&1; true"); !strings.Contains(r.stdout, "Permission denied") {
		t.Errorf("exec with the container's filter: %+v", r)
	}
	if ents, _ := os.ReadDir(fresh); len(ents) != 0 {
		t.Errorf("the exec compiled the profile (%d cache entries) instead of loading the container's filter", len(ents))
	}
	// Damaged, it is compiled again, as filtering.
	os.WriteFile(filepath.Join(e.root, id, "seccomp.filter"), []byte("hsf1"), 0o600)
	if r := e.hako("exec", id, "sh", "-c", "mkdir /dev/shm/z 2>&1; true"); !strings.Contains(r.stdout, "Permission denied") {
		t.Errorf("exec with a damaged filter file: %+v", r)
	}
	if ents, _ := os.ReadDir(fresh); len(ents) != 1 {
		t.Errorf("exec with a damaged filter file: %d cache entries, want the one it compiled", len(ents))
	}
	t.Setenv("HAKO_SECCOMP_CACHE", cache)
	// The config has no_new_privs; a process without it needs a filter
	// compiled so (loaded while the process may still, see seccomp.Compile).
	proc := filepath.Join(t.TempDir(), "process.json")
	os.WriteFile(proc, []byte(`{"args": ["sh", "-c", "mkdir /dev/shm/y 2>&1; grep NoNewPrivs /proc/self/status"],
		"cwd": "/", "env": ["PATH=/bin:/usr/bin"], "user": {"uid": 0, "gid": 0}, "noNewPrivileges": false,
		"capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_SYS_ADMIN"], "permitted": ["CAP_SYS_ADMIN"]}}`), 0o644)
	r = e.hako("exec", "--process", proc, id)
	if !strings.Contains(r.stdout, "Permission denied") || !strings.Contains(r.stdout, "NoNewPrivs:\t0") {
		t.Errorf("exec without no_new_privs: %+v", r)
	}
	if n := entries(); len(n) != 2 {
		t.Errorf("after an exec without no_new_privs: entries %v, want two", n)
	}
	e.mustHako("delete", "--force", id)

	os.RemoveAll(cache)
	t.Setenv("HAKO_SECCOMP_CACHE", "off")
	if r := e.hako("run", "--bundle", bundle, e.id("off")); r.code != 0 || !strings.Contains(r.stdout, "Permission denied") {
		t.Errorf("run without a cache: %+v", r)
	}
	if _, err := os.Stat(cache); err == nil {
		t.Error("HAKO_SECCOMP_CACHE=off: a cache was made")
	}
}
