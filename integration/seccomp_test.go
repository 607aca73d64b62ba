package integration

import (
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
