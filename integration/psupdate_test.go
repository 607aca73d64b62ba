package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

func TestFeaturesAndEvents(t *testing.T) {
	e := newEnv(t)
	var f struct {
		OCIVersionMax string   `json:"ociVersionMax"`
		Hooks         []string `json:"hooks"`
		Linux         struct {
			Namespaces []string `json:"namespaces"`
			Cgroup     struct {
				V1, V2, Systemd bool
			} `json:"cgroup"`
			Seccomp struct {
				Enabled bool     `json:"enabled"`
				Actions []string `json:"actions"`
			} `json:"seccomp"`
			Apparmor struct {
				Enabled bool `json:"enabled"`
			} `json:"apparmor"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(e.mustHako("features")), &f); err != nil {
		t.Fatal(err)
	}
	if f.OCIVersionMax != "1.3.0" || len(f.Hooks) != 6 || len(f.Linux.Namespaces) != 8 || !f.Linux.Cgroup.V1 || !f.Linux.Cgroup.V2 ||
		f.Linux.Cgroup.Systemd || !f.Linux.Seccomp.Enabled || len(f.Linux.Seccomp.Actions) < 9 || f.Linux.Apparmor.Enabled {
		t.Errorf("features on this hybrid, LSM-less host: %+v", f)
	}

	id := e.id("events")
	limit := int64(32)
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	}), id)
	e.mustHako("start", id)
	var ev struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Data struct {
			Pids struct {
				Current, Limit uint64
			} `json:"pids"`
			Memory struct {
				Usage struct{ Usage uint64 } `json:"usage"`
			} `json:"memory"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(e.mustHako("events", "--stats", id)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "stats" || ev.ID != id || ev.Data.Pids.Limit != 32 || ev.Data.Pids.Current < 1 || ev.Data.Memory.Usage.Usage == 0 {
		t.Errorf("events --stats: %+v", ev)
	}
	e.mustHako("delete", "--force", id)
}
