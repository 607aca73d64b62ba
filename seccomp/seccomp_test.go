//go:build cgo

package seccomp

import (
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func u(v uint) *uint { return &v }

func TestCompile(t *testing.T) {
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: u(38)},
			{Names: []string{"not_a_syscall_anywhere"}, Action: specs.ActErrno},
			{Names: []string{"getpid"}, Action: specs.ActAllow}, // same as the default: dropped
			{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0x20008, Op: specs.OpEqualTo}, {Index: 0, Value: 0xffffffff, Op: specs.OpEqualTo},
			}},
			{Names: []string{"clone"}, Action: specs.ActKillProcess, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0x7e020000, ValueTwo: 0x10000000, Op: specs.OpMaskedEqual},
			}},
		},
	}
	f, skipped, err := Compile(p, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if len(skipped) != 1 || skipped[0] != "not_a_syscall_anywhere" {
		t.Errorf("skipped = %v", skipped)
	}
	pfc, err := f.PFC()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mkdirat", "ERRNO(38)", "KILL_PROCESS", "# filter for arch x86 ", "# filter for arch x32 "} {
		if !strings.Contains(pfc, want) {
			t.Errorf("filter lacks %q:\n%s", want, pfc)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    specs.LinuxSeccomp
		want string
	}{
		{"action", specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}, `unknown action "SCMP_ACT_NOPE"`},
		{"arch", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_Z80"}}, `unknown architecture "SCMP_ARCH_Z80"`},
		{"flag", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NOPE"}}, "unknown flag"},
		{"operator", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: "SCMP_CMP_NOPE"}}}}}, `unknown operator`},
		{"index", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}, "out of range"},
		{"notify_without_listener", specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActNotify}}}, "SCMP_ACT_NOTIFY needs listenerPath"},
		{"notify_default", specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "cannot be the default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Compile(&tc.p, true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	f, _, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir"}, Action: specs.ActErrno},
			{Names: []string{"kill"}, Action: specs.ActErrno, ErrnoRet: u(38), Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0, Op: specs.OpEqualTo}}},
			{Names: []string{"clone"}, Action: specs.ActKillProcess, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x10000000, ValueTwo: 0x10000000, Op: specs.OpMaskedEqual}}},
			{Names: []string{"ptrace"}, Action: specs.ActTrap},
			{Names: []string{"uname"}, Action: specs.ActLog},
		},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	for _, tc := range []struct {
		name string
		args []uint64
		want string
	}{
		{"mkdir", nil, "SCMP_ACT_ERRNO(1)"},
		{"read", nil, "SCMP_ACT_ALLOW"},
		{"kill", []uint64{1, 0}, "SCMP_ACT_ERRNO(38)"},
		{"kill", []uint64{1, 9}, "SCMP_ACT_ALLOW"},
		{"clone", []uint64{0x10000011}, "SCMP_ACT_KILL_PROCESS"},
		{"clone", []uint64{0x11}, "SCMP_ACT_ALLOW"},
		{"ptrace", nil, "SCMP_ACT_TRAP"},
		{"uname", nil, "SCMP_ACT_LOG"},
	} {
		got, err := f.Check(tc.name, tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("Check(%s, %v) = %q, %v; want %q", tc.name, tc.args, got, err, tc.want)
		}
	}
	if _, err := f.Check("no_such_call"); err == nil {
		t.Error("unknown syscall checked")
	}
}

// TestProgram: the exported program is the one Load would install,
// instruction for instruction, with Load's flags.
func TestProgram(t *testing.T) {
	f, _, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write"}, Action: specs.ActAllow}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	raw, flags, err := f.Program()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseProgram(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.program()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || uintptr(flags) != f.flags {
		t.Fatalf("Program() = %d instructions, flags %#x; want %d, %#x", len(got), flags, len(want), f.flags)
	}
}

// Syscalls numbered above every one the profile names answer ENOSYS when
// the default denies; below, the default applies.
func TestCheckENOSYS(t *testing.T) {
	f, _, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"read", "write", "mkdir"}, Action: specs.ActAllow}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	for name, want := range map[string]string{
		"read":           "SCMP_ACT_ALLOW",
		"getcwd":         "SCMP_ACT_ERRNO(1)",  // 79 < mkdir's 83: the default
		"io_uring_setup": "SCMP_ACT_ERRNO(38)", // 425: newer than the profile
	} {
		if got, err := f.Check(name); err != nil || got != want {
			t.Errorf("Check(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

// The filter really loads and answers so: in a child (a filter cannot be
// taken off again), allowed everything the profile knows up to rseq. The
// same from its stored form (UnmarshalFilter).
func TestLoadENOSYS(t *testing.T) {
	if os.Getenv("SECCOMP_TEST_CHILD") != "" {
		return
	}
	for _, mode := range []string{"compiled", "stored"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadChild$", "-test.v")
		cmd.Env = append(os.Environ(), "SECCOMP_TEST_CHILD="+mode)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "new=38 old=1") || strings.Contains(string(out), "not filtered") ||
			strings.Contains(string(out), "only one thread") {
			t.Errorf("%s filter, child: %v\n%s", mode, err, out)
		}
	}
}

func TestLoadChild(t *testing.T) {
	if os.Getenv("SECCOMP_TEST_CHILD") == "" {
		t.Skip("runs as TestLoadENOSYS's child")
	}
	var names []string
	for nr := 0; nr <= 334; nr++ { // up to rseq: all the Go runtime needs
		if n, err := libseccomp.ScmpSyscall(nr).GetName(); err == nil && n != "mkdirat" {
			names = append(names, n)
		}
	}
	f, _, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls:      []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}},
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SECCOMP_TEST_CHILD") == "stored" {
		b, err := f.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		f.Release()
		if f, err = UnmarshalFilter(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Load(); err != nil {
		t.Fatal(err)
	}
	// TSYNC: every thread of this (Go, so multi-threaded) process has it.
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		st, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
		if !strings.Contains(string(st), "Seccomp:\t2") {
			fmt.Printf("thread %s not filtered\n", task.Name())
		}
	}
	if len(tasks) < 2 {
		fmt.Println("only one thread: TSYNC not exercised")
	}
	_, _, newer := unix.Syscall(unix.SYS_IO_URING_SETUP, 0, 0, 0)
	_, _, older := unix.Syscall(unix.SYS_MKDIRAT, 0, 0, 0)
	fmt.Printf("new=%d old=%d\n", newer, older)
}
