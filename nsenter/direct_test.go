package nsenter

import "testing"

func TestDirect(t *testing.T) {
	adj := 5
	prog := []string{"/bin/true"}
	for _, tc := range []struct {
		name string
		r    Request
		want bool
	}{
		{"new namespaces and a program", Request{New: []Kind{Mount, UTS, IPC, PID}, Exec: prog}, true},
		{"user with maps", Request{New: []Kind{User, Mount}, UIDMap: []IDMap{{0, 1000, 1}}, GIDMap: []IDMap{{0, 1000, 1}}, DenySetgroups: true, Exec: prog}, true},
		{"user without root mapped", Request{New: []Kind{User}, UIDMap: []IDMap{{1, 1000, 1}}, GIDMap: []IDMap{{0, 1000, 1}}, Exec: prog}, false},
		{"user without maps", Request{New: []Kind{User}, Exec: prog}, false},
		{"fork with a pid namespace", Request{New: []Kind{PID}, Fork: true, Exec: prog}, true},
		{"no program: the caller's code runs inside", Request{New: []Kind{UTS}}, false},
		{"join", Request{Join: []Join{{Net, "/proc/1/ns/net"}}, Exec: prog}, false},
		{"time namespace", Request{New: []Kind{Time}, Exec: prog}, false},
		{"time offsets", Request{New: []Kind{Time}, TimeOffsets: []TimeOffset{{Monotonic, 1, 0}}, Exec: prog}, false},
		{"map helpers", Request{New: []Kind{User}, UseHelpers: true, Exec: prog}, false},
		{"mount /proc", Request{New: []Kind{Mount, PID}, MountProc: true, Exec: prog}, false},
		{"oom_score_adj", Request{New: []Kind{UTS}, OOMScoreAdj: &adj, Exec: prog}, false},
		{"fork without a pid namespace", Request{New: []Kind{UTS}, Fork: true, Exec: prog}, false},
	} {
		if got := direct(&tc.r); got != tc.want {
			t.Errorf("%s: direct = %v, want %v", tc.name, got, tc.want)
		}
	}
}
