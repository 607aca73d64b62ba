package container

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/runtime/execstage"
	"hako.dev/seccomp"
)

// Where the plan gives huge pages back: before a filter loaded early
// only if that filter would refuse the prctl, right before the execve
// otherwise.
func TestPlanHugePages(t *testing.T) {
	if !hugePagesOff() {
		t.Skip("this test runs with transparent huge pages disabled: launches leave them as they are")
	}
	bpf := make([]byte, 8)
	for _, tc := range []struct {
		name             string
		early            bool
		bpf              []byte
		filterOK         bool
		wantLate, wantEa bool
	}{
		{"no filter", false, nil, true, true, false},
		{"late filter", false, bpf, false, true, false},
		{"early filter that lets it through", true, bpf, true, true, false},
		{"early filter that refuses it", true, bpf, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &execstage.Plan{SeccompEarly: tc.early, BPF: tc.bpf}
			planHugePages(p, tc.filterOK)
			if p.HugePages != tc.wantLate || p.HugePagesEarly != tc.wantEa {
				t.Errorf("HugePages %v, HugePagesEarly %v; want %v, %v", p.HugePages, p.HugePagesEarly, tc.wantLate, tc.wantEa)
			}
		})
	}
}

func TestThpPasses(t *testing.T) {
	rule := func(act specs.LinuxSeccompAction, args ...specs.LinuxSeccompArg) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"prctl"}, Action: act, Args: args}}}
	}
	thp := specs.LinuxSeccompArg{Index: 0, Value: unix.PR_SET_THP_DISABLE, Op: specs.OpEqualTo}
	other := specs.LinuxSeccompArg{Index: 0, Value: unix.PR_SET_NAME, Op: specs.OpEqualTo}
	for _, tc := range []struct {
		name string
		p    *specs.LinuxSeccomp
		want bool
	}{
		{"allowed", rule(specs.ActAllow), true},
		{"logged", rule(specs.ActLog), true},
		{"killed", rule(specs.ActKillProcess), false},
		{"refused", rule(specs.ActErrno), false},
		{"killed, that option", rule(specs.ActKill, thp), false},
		{"killed, another option", rule(specs.ActKill, other), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := seccomp.Compile(tc.p, true)
			if err != nil {
				t.Skipf("no seccomp here: %v", err)
			}
			defer f.Release()
			if got := thpPasses(f); got != tc.want {
				t.Errorf("thpPasses = %v, want %v", got, tc.want)
			}
		})
	}
}
