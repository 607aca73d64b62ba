package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestPsAndUpdate(t *testing.T) {
	e := newEnv(t)
	id := e.id("ps")
	e.mustHako("create", "--bundle", e.bundle([]string{"sh", "-c", "sleep 100 & testinit sleep"}, nil), id)
	e.mustHako("start", id)
	init := e.state(id).Pid

	var pids []int
	for i := 0; i < 100 && len(pids) < 2; i++ {
		json.Unmarshal([]byte(e.mustHako("ps", "--format", "json", id)), &pids)
	}
	if len(pids) != 2 || (pids[0] != init && pids[1] != init) {
		t.Errorf("ps --format json = %v, want the init %d and its sleep", pids, init)
	}
	table := e.mustHako("ps", id)
	if !strings.Contains(table, "PID") || !strings.Contains(table, "sleep 100") || strings.Count(table, "\n") != 3 {
		t.Errorf("ps table:\n%s", table)
	}

	e.mustHako("update", "--pids-limit", "7", "--memory", strconv.Itoa(96<<20), id)
	for file, want := range map[string]string{
		"/sys/fs/cgroup/pids/hako/" + id + "/pids.max":                "7",
		"/sys/fs/cgroup/memory/hako/" + id + "/memory.limit_in_bytes": strconv.Itoa(96 << 20),
	} {
		if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q after update, want %s", file, b, want)
		}
	}
	// docker update sends the resources as JSON on stdin.
	res := t.TempDir() + "/res.json"
	os.WriteFile(res, []byte(`{"pids":{"limit":9}}`), 0o644)
	e.mustHako("update", "--resources", res, id)
	if b, _ := os.ReadFile("/sys/fs/cgroup/pids/hako/" + id + "/pids.max"); strings.TrimSpace(string(b)) != "9" {
		t.Errorf("pids.max after --resources = %q", b)
	}
	e.mustHako("delete", "--force", id)
	if r := e.hako("update", "--pids-limit", "5", id); r.code == 0 || !strings.Contains(r.stderr, "container does not exist") {
		t.Errorf("update of a deleted container: %+v", r)
	}
}
