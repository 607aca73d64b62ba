package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostSnapshot is what a failed command must leave unchanged on the host.
type hostSnapshot struct {
	root    []string // entries under --root
	cgroups []string // hako's cgroup directories, every hierarchy
	mounts  string   // /proc/self/mountinfo
}

func (e *env) snapshot() hostSnapshot {
	var s hostSnapshot
	ents, _ := os.ReadDir(e.root)
	for _, ent := range ents {
		s.root = append(s.root, ent.Name())
	}
	s.cgroups, _ = filepath.Glob("/sys/fs/cgroup/*/hako/" + e.prefix + "*")
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	s.mounts = string(mi)
	return s
}

func (e *env) sameAs(before hostSnapshot) {
	e.t.Helper()
	after := e.snapshot()
	if strings.Join(after.root, ",") != strings.Join(before.root, ",") {
		e.t.Errorf("--root changed: %v -> %v", before.root, after.root)
	}
	if strings.Join(after.cgroups, ",") != strings.Join(before.cgroups, ",") {
		e.t.Errorf("cgroups changed: %v -> %v", before.cgroups, after.cgroups)
	}
	if after.mounts != before.mounts {
		e.t.Errorf("mounts changed:\n%s\n->\n%s", before.mounts, after.mounts)
	}
}

// Each case fails with an error naming the operation and the object, a
// non-zero exit, and nothing left behind.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	good := e.bundle([]string{"testinit", "sleep"}, nil)

	noConfig := t.TempDir()
	badJSON := t.TempDir()
	os.WriteFile(filepath.Join(badJSON, "config.json"), []byte("{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {\n    \"args\": [\"sh\",]\n  }\n}\n"), 0o644)
	badType := t.TempDir()
	os.WriteFile(filepath.Join(badType, "config.json"), []byte(`{"process": {"args": "sh"}}`), 0o644)
	noCmd := e.bundle([]string{"nosuchcmd"}, nil)
	noAbsCmd := e.bundle([]string{"/bin/nosuchcmd"}, nil)
	noRootfs := e.bundle(nil, func(s *specs.Spec) { s.Root.Path = "missing" })
	// Without a mount namespace the container shares the host's, where
	// its root cannot be made read-only.
	noMntNS := e.bundle(nil, func(s *specs.Spec) {
		s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.UTSNamespace}}
		s.Root.Readonly = true
	})
	badMount := e.bundle(nil, func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/nonexistent/volume", Options: []string{"bind"}})
	})
	badCap := e.bundle(nil, func(s *specs.Spec) {
		// CAP_SYS_RESOURCE is outside this machine's (and so hako's) bounding set.
		c := []string{"CAP_SYS_RESOURCE"}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: c, Effective: c, Permitted: c}
	})
	tty := e.bundle(nil, func(s *specs.Spec) { s.Process.Terminal = true })
	seccomp := e.bundle(nil, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_SOMETIMES"}
	})
	sysctl := e.bundle(nil, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} })
	apparmor := e.bundle(nil, func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" })
	selinux := e.bundle(nil, func(s *specs.Spec) { s.Process.SelinuxLabel = "system_u:system_r:container_t:s0" })

	tests := []struct {
		name string
		args []string
		want []string // all must appear in stderr
	}{
		{"missing_bundle", []string{"create", "--bundle", "/nonexistent/bundle", e.id("a")},
			[]string{"create " + e.id("a"), "bundle /nonexistent/bundle: no such file or directory"}},
		{"missing_config", []string{"create", "--bundle", noConfig, e.id("b")},
			[]string{"create " + e.id("b"), "config.json: no such file or directory"}},
		{"syntax_error", []string{"create", "--bundle", badJSON, e.id("c")},
			[]string{"create " + e.id("c"), "parse " + badJSON + "/config.json: line 4, column", "invalid character ']'"}},
		{"type_error", []string{"create", "--bundle", badType, e.id("c2")},
			[]string{"parse ", "line 1, column", "cannot unmarshal string"}},
		{"missing_rootfs", []string{"create", "--bundle", noRootfs, e.id("d")},
			[]string{"create " + e.id("d"), "rootfs " + noRootfs + "/missing: no such file or directory"}},
		{"readonly_root_without_mount_namespace", []string{"create", "--bundle", noMntNS, e.id("e")},
			[]string{"root.readonly needs a mount namespace"}},
		{"executable_not_found", []string{"create", "--bundle", noCmd, e.id("f")},
			[]string{"create " + e.id("f"), `exec: "nosuchcmd": executable file not found in $PATH`}},
		{"absolute_executable_missing", []string{"create", "--bundle", noAbsCmd, e.id("f2")},
			[]string{"/bin/nosuchcmd", "no such file or directory"}},
		{"bind_source_missing", []string{"create", "--bundle", badMount, e.id("g")},
			[]string{"create " + e.id("g"), "/nonexistent/volume: no such file or directory"}},
		{"capability_outside_bounding_set", []string{"create", "--bundle", badCap, e.id("h")},
			[]string{"CAP_SYS_RESOURCE not in the runtime's own bounding set"}},
		{"terminal_without_socket", []string{"create", "--bundle", tty, e.id("i")},
			[]string{"terminal", "--console-socket"}},
		{"bad_seccomp_action", []string{"create", "--bundle", seccomp, e.id("j")},
			[]string{"create " + e.id("j"), `seccomp defaultAction: unknown action "SCMP_ACT_SOMETIMES"`}},
		{"host_sysctl", []string{"create", "--bundle", sysctl, e.id("j2")},
			[]string{`sysctl "kernel.panic" is not namespaced`}},
		// This host runs neither LSM: a label asked for is an error.
		{"apparmor_without_apparmor", []string{"create", "--bundle", apparmor, e.id("k")},
			[]string{`apparmor profile "docker-default" requested, but AppArmor is not enabled on this host`}},
		{"selinux_without_selinux", []string{"create", "--bundle", selinux, e.id("k2")},
			[]string{"SELinux is not enabled on this host"}},
		{"bad_id", []string{"create", "--bundle", good, "../escape"},
			[]string{`invalid container id "../escape"`}},
		{"unknown_id_start", []string{"start", e.id("nosuch")}, []string{"start " + e.id("nosuch") + ": container does not exist"}},
		{"unknown_id_kill", []string{"kill", e.id("nosuch")}, []string{"container does not exist"}},
		{"unknown_id_delete", []string{"delete", e.id("nosuch")}, []string{"container does not exist"}},
		{"unknown_id_state", []string{"state", e.id("nosuch")}, []string{"container does not exist"}},
		{"bad_log_format", []string{"--log-format", "xml", "list"}, []string{"unknown --log-format"}},
		{"systemd_cgroup_driver", []string{"--systemd-cgroup", "create", "--bundle", good, e.id("sd")},
			[]string{"create: the systemd cgroup driver (--systemd-cgroup) is not supported by this hako yet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.hako(tc.args...)
			if r.code == 0 {
				t.Fatalf("exit 0, want failure (stdout %q)", r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "hako: ") {
				t.Errorf("stderr does not start with \"hako: \": %q", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			e.sameAs(before)
		})
	}
}

func TestWrongState(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "sleep"}, nil)
	id := e.id("run")
	e.mustHako("create", "--bundle", bundle, id)

	t.Run("duplicate_id", func(t *testing.T) {
		before := e.snapshot()
		r := e.hako("create", "--bundle", bundle, id)
		if r.code == 0 || !strings.Contains(r.stderr, "container with id "+id+" already exists") {
			t.Errorf("second create: %+v", r)
		}
		e.sameAs(before)
		if st := e.state(id); st.Status != "created" {
			t.Errorf("first container disturbed: %+v", st)
		}
	})
	e.mustHako("start", id)
	t.Run("start_running", func(t *testing.T) {
		r := e.hako("start", id)
		if r.code == 0 || !strings.Contains(r.stderr, "start "+id+": cannot start an already running container") {
			t.Errorf("start of a running container: %+v", r)
		}
	})
	t.Run("delete_running_without_force", func(t *testing.T) {
		r := e.hako("delete", id)
		if r.code == 0 || !strings.Contains(r.stderr, "delete "+id+": cannot delete container "+id+" that is not stopped: running") {
			t.Errorf("delete of a running container: %+v", r)
		}
		if st := e.state(id); st.Status != "running" {
			t.Errorf("container changed by the refused delete: %+v", st)
		}
	})
	t.Run("delete_force", func(t *testing.T) {
		pid := e.state(id).Pid
		e.mustHako("delete", "--force", id)
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			if s, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(s), ") Z") {
				t.Errorf("init %d still alive after delete --force", pid)
			}
		}
		if left := e.leftovers(); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	t.Run("start_stopped", func(t *testing.T) {
		id := e.id("stopped")
		e.mustHako("create", "--bundle", e.bundle([]string{"true"}, nil), id)
		e.mustHako("start", id)
		e.waitStatus(id, "stopped")
		r := e.hako("start", id)
		if r.code == 0 || !strings.Contains(r.stderr, "cannot start a container that has stopped") {
			t.Errorf("start of a stopped container: %+v", r)
		}
		e.mustHako("delete", id)
	})
	t.Run("delete_created", func(t *testing.T) {
		id := e.id("created")
		e.mustHako("create", "--bundle", bundle, id)
		e.mustHako("delete", id)
		if left := e.leftovers(); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// With --log-format json, the error reaches the log file as the last
// "level":"error" line, which containerd shows its user.
func TestJSONLogError(t *testing.T) {
	e := newEnv(t)
	logf := filepath.Join(t.TempDir(), "log.json")
	r := e.hako("--log", logf, "--log-format", "json", "start", e.id("nosuch"))
	if r.code == 0 {
		t.Fatal("start of an unknown container succeeded")
	}
	b, err := os.ReadFile(logf)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
		Time  string `json:"time"`
	}
	if err := json.Unmarshal([]byte(ls[len(ls)-1]), &last); err != nil {
		t.Fatalf("last log line %q: %v", ls[len(ls)-1], err)
	}
	if last.Level != "error" || last.Time == "" || !strings.Contains(last.Msg, "container does not exist") {
		t.Errorf("last log line = %+v", last)
	}
}

// Errors before --log is open (a bad flag) still reach it; with
// --log-format json and no --log, the error is a JSON line on stderr, as
// runc prints it.
func TestLogEarlyErrors(t *testing.T) {
	e := newEnv(t)
	logf := filepath.Join(t.TempDir(), "log.json")
	r := e.hako("--log", logf, "--log-format", "json", "create", "--bogus", e.id("x"))
	b, _ := os.ReadFile(logf)
	if r.code == 0 || !strings.Contains(string(b), `"level":"error"`) || !strings.Contains(string(b), "unknown flag: --bogus") {
		t.Errorf("bad flag: exit %d, log %q", r.code, b)
	}
	r = e.hako("--log-format", "json", "state", e.id("nosuch"))
	var line struct{ Level, Msg string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stderr)), &line); err != nil || line.Level != "error" ||
		!strings.Contains(line.Msg, "container does not exist") {
		t.Errorf("stderr %q: %v", r.stderr, err)
	}
}

// runc's leniencies that clients count on: delete --force of what does
// not exist succeeds; kill with signal 0 checks the container; a created
// container can be paused, resumed and exec'd into.
func TestRuncLeniencies(t *testing.T) {
	e := newEnv(t)
	if r := e.hako("delete", "--force", e.id("nosuch")); r.code != 0 {
		t.Errorf("delete --force of nothing: %+v", r)
	}
	// A directory without a record: a create killed the moment after
	// making it.
	stale := filepath.Join(e.root, e.id("stale"))
	os.MkdirAll(stale, 0o711)
	if r := e.hako("delete", "-f", e.id("stale")); r.code != 0 {
		t.Errorf("delete -f of a stale directory: %+v", r)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale directory left")
	}
	id := e.id("created")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), id)
	e.mustHako("kill", id, "0")
	if out := e.mustHako("exec", id, "testinit", "pid"); !strings.HasPrefix(out, "pid=") {
		t.Errorf("exec into a created container: %q", out)
	}
	e.mustHako("pause", id)
	e.waitStatus(id, "paused")
	e.mustHako("resume", id)
	e.waitStatus(id, "created")
	e.mustHako("start", id)
	e.waitStatus(id, "running")
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
}

// A create killed half-way (by a client's timeout, say) leaves a first
// record naming its cgroup; delete cleans up from it. Simulated here by
// turning a real container's record back into that first record, with a
// creator that is gone.
func TestDeleteHalfCreated(t *testing.T) {
	e := newEnv(t)
	id := e.id("half")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), id)
	gone := exec.Command("true")
	gone.Run()
	p := filepath.Join(e.root, id, "state.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	json.Unmarshal(b, &rec)
	rec["pid"], rec["startTime"], rec["creator"], rec["creatorStart"] = 0, 0, gone.Process.Pid, 1
	b, _ = json.Marshal(rec)
	os.WriteFile(p, b, 0o644)
	if st := e.state(id); st.Status != "stopped" {
		t.Errorf("status of a record whose creator died = %q, want stopped", st.Status)
	}
	// Its init is still there, in its cgroup: delete must end it too.
	e.mustHako("delete", id)
	if left := e.leftovers(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
