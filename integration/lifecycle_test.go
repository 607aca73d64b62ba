package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runcState mirrors the keys of `runc state`, which clients parse.
type runcState struct {
	OCIVersion string    `json:"ociVersion"`
	ID         string    `json:"id"`
	Pid        int       `json:"pid"`
	Status     string    `json:"status"`
	Bundle     string    `json:"bundle"`
	Rootfs     string    `json:"rootfs"`
	Created    time.Time `json:"created"`
	Owner      *string   `json:"owner"`
}

func (e *env) state(id string) runcState {
	e.t.Helper()
	var st runcState
	if err := json.Unmarshal([]byte(e.mustHako("state", id)), &st); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "sleep"}, nil)
	id := e.id("life")
	pidFile := filepath.Join(t.TempDir(), "pid")

	e.mustHako("create", "--bundle", bundle, "--pid-file", pidFile, id)
	st := e.state(id)
	t.Run("created", func(t *testing.T) {
		if st.Status != "created" || st.Pid <= 0 || st.ID != id || st.Bundle != bundle ||
			st.Rootfs != filepath.Join(bundle, "rootfs") || st.Owner == nil || st.Created.IsZero() || st.OCIVersion == "" {
			t.Errorf("state after create = %+v", st)
		}
		b, err := os.ReadFile(pidFile)
		if err != nil || string(b) != strconv.Itoa(st.Pid) {
			t.Errorf("pid file = %q, %v; want %d", b, err, st.Pid)
		}
	})
	t.Run("created_does_not_run_the_program", func(t *testing.T) {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(st.Pid) + "/exe")
		if strings.HasSuffix(exe, "testinit") {
			t.Errorf("init already exec'd %s before start", exe)
		}
	})
	e.mustHako("start", id)
	t.Run("running", func(t *testing.T) {
		st := e.state(id)
		if st.Status != "running" || st.Pid != e.state(id).Pid {
			t.Errorf("state after start = %+v", st)
		}
	})
	t.Run("list", func(t *testing.T) {
		out := e.mustHako("list", "--format", "json")
		var list []runcState
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].ID != id || list[0].Status != "running" {
			t.Errorf("list = %s (%v)", out, err)
		}
		table := e.mustHako("list")
		if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, id) || !strings.Contains(table, "running") {
			t.Errorf("list table = %q", table)
		}
	})
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	t.Run("stopped", func(t *testing.T) {
		if st := e.state(id); st.Pid != 0 {
			t.Errorf("stopped container reports pid %d", st.Pid)
		}
		if r := e.hako("kill", id); r.code == 0 || !strings.Contains(r.stderr, "container not running") {
			t.Errorf("kill of a stopped container: %+v", r)
		}
	})
	e.mustHako("delete", id)
	t.Run("deleted", func(t *testing.T) {
		r := e.hako("state", id)
		if r.code == 0 || !strings.Contains(r.stderr, "container does not exist") {
			t.Errorf("state after delete: %+v", r)
		}
		if left := e.leftovers(); len(left) != 0 {
			t.Errorf("left after delete: %v", left)
		}
	})
}

func TestKillSignalForms(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "sleep"}, nil)
	for _, sig := range []string{"9", "SIGKILL", "kill"} {
		id := e.id("sig" + strings.ToLower(sig))
		e.mustHako("create", "--bundle", bundle, id)
		e.mustHako("start", id)
		e.mustHako("kill", id, sig)
		e.waitStatus(id, "stopped")
		e.mustHako("delete", id)
	}
	if r := e.hako("kill", e.id("x"), "NOTASIGNAL"); r.code == 0 || !strings.Contains(r.stderr, "unknown signal") {
		t.Errorf("bad signal: %+v", r)
	}
}

func TestRunExitStatus(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"zero", []string{"testinit", "exit", "0"}, 0},
		{"three", []string{"testinit", "exit", "3"}, 3},
		{"shell", []string{"sh", "-c", "exit 42"}, 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.hako("run", "--bundle", e.bundle(tc.args, nil), e.id(tc.name))
			if r.code != tc.want {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tc.want, r.stderr)
			}
		})
	}
}

// A program killed by signal N makes `hako run` exit 128+N, as a shell
// reports it.
func TestRunKilledBySignal(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"testinit", "sleep"}, nil)
	id := e.id("sig")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hakoBin, "--root", e.root, "run", "--bundle", bundle, id)
	out := &strings.Builder{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, "running")
	e.mustHako("kill", id, "KILL")
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
		t.Errorf("hako run ended with %v, want exit status 137", err)
	}
}

func TestRunStdioPassthrough(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle([]string{"sh", "-c", "read line; echo got:$line; echo err >&2"}, nil)
	cmd := exec.Command(hakoBin, "--root", e.root, "run", "--bundle", bundle, e.id("stdio"))
	cmd.Stdin = strings.NewReader("hello\n")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v (%s)", err, errb.String())
	}
	if out.String() != "got:hello\n" || errb.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestPauseResume(t *testing.T) {
	e := newEnv(t)
	id := e.id("pause")
	// A busy child of pid 1 shows whether anything runs.
	e.mustHako("create", "--bundle", e.bundle([]string{"sh", "-c", "while :; do :; done & testinit sleep"}, nil), id)
	e.mustHako("start", id)
	e.mustHako("pause", id)
	if st := e.state(id); st.Status != "paused" {
		t.Fatalf("status after pause = %q", st.Status)
	}
	if r := e.hako("pause", id); r.code == 0 || !strings.Contains(r.stderr, "already paused") {
		t.Errorf("second pause: %+v", r)
	}
	// Another signal leaves it paused; the processes do not run.
	e.mustHako("kill", "--all", id, "CONT")
	if st := e.state(id); st.Status != "paused" {
		t.Errorf("status after kill --all CONT of a paused container = %q", st.Status)
	}
	e.mustHako("resume", id)
	if st := e.state(id); st.Status != "running" {
		t.Fatalf("status after resume = %q", st.Status)
	}
	if r := e.hako("resume", id); r.code == 0 || !strings.Contains(r.stderr, "container not paused") {
		t.Errorf("resume of a running container: %+v", r)
	}
	e.mustHako("pause", id)
	// SIGKILL to every process of a paused container: it dies.
	e.mustHako("kill", "--all", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)

	// And SIGKILL to the init alone, as containerd sends it: it dies too.
	id2 := e.id("pause2")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), id2)
	e.mustHako("start", id2)
	e.mustHako("pause", id2)
	e.mustHako("kill", id2, "KILL")
	e.waitStatus(id2, "stopped")
	e.mustHako("delete", id2)
	if r := e.hako("pause", e.id("nosuch")); r.code == 0 || !strings.Contains(r.stderr, "container does not exist") {
		t.Errorf("pause of an unknown container: %+v", r)
	}
}

// kill --all reaches processes the init does not forward signals to.
func TestKillAll(t *testing.T) {
	e := newEnv(t)
	id := e.id("all")
	// No pid namespace: the init's death would not end the others.
	e.mustHako("create", "--bundle", e.bundle([]string{"sh", "-c", "sleep 100 & sleep 100 & testinit sleep"}, withoutPidNS), id)
	e.mustHako("start", id)
	cg := "/sys/fs/cgroup/pids/hako/" + id + "/cgroup.procs"
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(cg)
		if len(strings.Fields(string(b))) >= 3 { // sh execs its last command: testinit and two sleeps
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes did not start: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mustHako("kill", "--all", id, "KILL")
	e.waitStatus(id, "stopped")
	for {
		b, _ := os.ReadFile(cg)
		if len(strings.TrimSpace(string(b))) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cgroup still holds %q after kill --all", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.mustHako("delete", id)
}

// Without a pid namespace of its own, a container's init may exit and
// leave what it started running: delete ends those too.
func TestDeleteKillsLeftovers(t *testing.T) {
	e := newEnv(t)
	id := e.id("left")
	e.mustHako("create", "--bundle", e.bundle([]string{"sh", "-c", "sleep 100 & exit 0"}, withoutPidNS), id)
	e.mustHako("start", id)
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
}

func TestRunDetachKeep(t *testing.T) {
	e := newEnv(t)
	id := e.id("detach")
	pidFile := filepath.Join(t.TempDir(), "pid")
	e.mustHako("run", "-d", "--pid-file", pidFile, "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), id)
	st := e.state(id)
	if b, _ := os.ReadFile(pidFile); st.Status != "running" || string(b) != strconv.Itoa(st.Pid) {
		t.Errorf("run -d: state %+v, pid file %q", st, b)
	}
	e.mustHako("delete", "--force", id)

	kept := e.id("keep")
	if r := e.hako("run", "--keep", "--bundle", e.bundle([]string{"sh", "-c", "exit 4"}, nil), kept); r.code != 4 {
		t.Errorf("run --keep: %+v", r)
	}
	if st := e.state(kept); st.Status != "stopped" {
		t.Errorf("kept container: %+v", st)
	}
	e.mustHako("delete", kept)
}
