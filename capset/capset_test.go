package capset

import (
	"reflect"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want capability.Cap
		ok   bool
	}{
		{"CAP_NET_RAW", capability.CAP_NET_RAW, true},
		{"cap_net_raw", capability.CAP_NET_RAW, true},
		{"NET_RAW", capability.CAP_NET_RAW, true},
		{"sys_admin", capability.CAP_SYS_ADMIN, true},
		{"CAP_NOPE", 0, false},
		{"", 0, false},
	} {
		got, err := Parse(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v", tc.in, got, err)
		}
	}
	if Name(capability.CAP_KILL) != "CAP_KILL" {
		t.Errorf("Name(CAP_KILL) = %q", Name(capability.CAP_KILL))
	}
}

func TestFromSpecSkipsUnknown(t *testing.T) {
	s, skipped, err := FromSpec(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_KILL", "CAP_FUTURE_THING"},
		Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL", "CAP_FUTURE_THING"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(skipped, []string{"CAP_FUTURE_THING"}) {
		t.Errorf("skipped = %v", skipped)
	}
	want := []capability.Cap{capability.CAP_KILL}
	if !reflect.DeepEqual(s.Bounding, want) || !reflect.DeepEqual(s.Permitted, want) || s.Ambient != nil {
		t.Errorf("sets = %+v", s)
	}
}

func TestProcessSettingErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"domain", SetPersonality(&specs.LinuxPersonality{Domain: "BSD"}), `unknown domain "BSD"`},
		{"pflags", SetPersonality(&specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}), "unknown flags"},
		{"policy", SetScheduler(&specs.Scheduler{Policy: "SCHED_ISO"}), `unknown policy "SCHED_ISO"`},
		{"sflag", SetScheduler(&specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"NOPE"}}), `unknown flag "NOPE"`},
		{"class", SetIOPriority(&specs.LinuxIOPriority{Class: "IOPRIO_CLASS_X"}), "unknown class"},
		{"level", SetIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 9}), "out of range"},
		{"cpus", SetAffinity(0, "3-1"), "bad list"},
		{"cpus2", SetAffinity(0, "x"), "bad list"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	got := Decode(1<<29 | 1<<5 | 1<<10 | 1<<63)
	want := []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE", "cap_63"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Decode = %v, want %v", got, want)
	}
	if s, err := Show(0); err != nil || s["CapBnd"] == nil {
		t.Errorf("Show(0) = %v, %v", s, err)
	}
}

func TestMemoryPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		p    specs.LinuxMemoryPolicy
		want string
	}{
		{specs.LinuxMemoryPolicy{Mode: "MPOL_NOPE"}, "unknown mode"},
		{specs.LinuxMemoryPolicy{Mode: "MPOL_BIND", Flags: []specs.MemoryPolicyFlagType{"MPOL_F_X"}}, "unknown flag"},
		{specs.LinuxMemoryPolicy{Mode: "MPOL_BIND", Nodes: "3-1"}, "bad nodes"},
	} {
		if err := SetMemoryPolicy(&tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetMemoryPolicy(%+v) = %v, want %q", tc.p, err, tc.want)
		}
	}
}
