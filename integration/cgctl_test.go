package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func cgctl(t *testing.T, args ...string) result {
	t.Helper()
	return runBin(t, cgctlBin, args...)
}

// The by-hand cgroup session of the cgctl README, end to end on this host.
func TestCgctlCLI(t *testing.T) {
	path := fmt.Sprintf("/hako-cli-%d", os.Getpid())
	t.Cleanup(func() {
		cgctl(t, "kill", path)
		cgctl(t, "delete", path)
		for _, d := range []string{"memory", "pids", "unified"} {
			if _, err := os.Stat("/sys/fs/cgroup/" + d + path); err == nil {
				t.Errorf("%s%s left behind", d, path)
			}
		}
	})
	if r := cgctl(t, "mode"); r.code != 0 || strings.TrimSpace(r.stdout) != "hybrid" {
		t.Errorf("mode on this host: %+v", r)
	}
	if r := cgctl(t, "create", path, "--memory", "64M", "--pids", "32", "--cpus", "0.5"); r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	for file, want := range map[string]string{
		"memory" + path + "/memory.limit_in_bytes": "67108864",
		"pids" + path + "/pids.max":                "32",
		"cpu" + path + "/cpu.cfs_quota_us":         "50000",
	} {
		if b, _ := os.ReadFile("/sys/fs/cgroup/" + file); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q, want %s", file, b, want)
		}
	}
	if r := cgctl(t, "exec", path, "--", "sh", "-c", "grep pids /proc/self/cgroup"); r.code != 0 || !strings.Contains(r.stdout, ":pids:"+path) {
		t.Errorf("exec: %+v", r)
	}
	if r := cgctl(t, "set", path, "--pids", "16"); r.code != 0 {
		t.Errorf("set: %+v", r)
	}
	if r := cgctl(t, "stats", path, "--json"); r.code != 0 || !strings.Contains(r.stdout, `"limit": 16`) {
		t.Errorf("stats --json: %+v", r)
	}
	if r := cgctl(t, "stats", path); r.code != 0 || !strings.Contains(r.stdout, "(limit 16)") {
		t.Errorf("stats: %+v", r)
	}
	sleeper := exec.Command("sleep", "60")
	sleeper.Start()
	defer sleeper.Wait()
	if r := cgctl(t, "add", path, fmt.Sprint(sleeper.Process.Pid)); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	if r := cgctl(t, "pids", path); strings.TrimSpace(r.stdout) != fmt.Sprint(sleeper.Process.Pid) {
		t.Errorf("pids: %+v", r)
	}
	if r := cgctl(t, "freeze", path); r.code != 0 {
		t.Errorf("freeze: %+v", r)
	}
	if r := cgctl(t, "delete", path); r.code == 0 || !strings.Contains(r.stderr, "processes still inside: "+fmt.Sprint(sleeper.Process.Pid)) {
		t.Errorf("delete of a cgroup with a process: %+v", r)
	}
	if r := cgctl(t, "kill", path); r.code != 0 {
		t.Errorf("kill: %+v", r)
	}
	cgctl(t, "thaw", path)
	if r := cgctl(t, "delete", path); r.code != 0 {
		t.Errorf("delete: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stats", path}, "cgroup " + path + " does not exist"},
		{[]string{"create", path, "--memory", "lots"}, `bad size "lots"`},
		{[]string{"create", path, "--cpus", "-1"}, "want a positive number of CPUs"},
		{[]string{"add", path, "x"}, `bad pid "x"`},
		{[]string{"create", path, "--resources", "/nonexistent.json"}, "no such file or directory"},
	} {
		r := cgctl(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "cgctl: ") {
			t.Errorf("cgctl %v: %+v, want %q", tc.args, r, tc.want)
		}
	}
}
