package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hook is /bin/sh running script, with the state on its stdin.
func hook(script string) specs.Hook {
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}}
}

func TestHooks(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	save := func(name string) specs.Hook { return hook("cat > " + filepath.Join(dir, name+".json")) }
	id := e.id("hooks")
	bundle := e.bundle([]string{"sh", "-c", "cat /dev/shm/started"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{save("prestart")},
			CreateRuntime:   []specs.Hook{save("createRuntime")},
			CreateContainer: []specs.Hook{save("createContainer")},
			// Runs in the container: busybox's sh, writing where the
			// program will look.
			StartContainer: []specs.Hook{hook("echo started-hook-ran > /dev/shm/started")},
			Poststart:      []specs.Hook{save("poststart")},
			Poststop:       []specs.Hook{save("poststop")},
		}
	})
	r := e.hako("run", "--bundle", bundle, id)
	if r.code != 0 || r.stdout != "started-hook-ran\n" {
		t.Fatalf("run: %+v", r)
	}
	for name, status := range map[string]string{
		"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
		"poststart": "running", "poststop": "stopped",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Errorf("%s hook did not run: %v", name, err)
			continue
		}
		var st specs.State
		if err := json.Unmarshal(b, &st); err != nil || st.ID != id || string(st.Status) != status || st.Bundle != bundle {
			t.Errorf("%s hook got state %s (%v), want status %s", name, b, err, status)
		}
		if name != "poststop" && st.Pid <= 0 {
			t.Errorf("%s hook got no pid: %s", name, b)
		}
	}
}

func TestHookFailures(t *testing.T) {
	e := newEnv(t)
	timeout := 1
	tests := []struct {
		name  string
		hooks specs.Hooks
		want  string
	}{
		{"createRuntime", specs.Hooks{CreateRuntime: []specs.Hook{hook("echo nope >&2; exit 3")}},
			"createRuntime hook /bin/sh: exit status 3: nope"},
		{"createContainer", specs.Hooks{CreateContainer: []specs.Hook{hook("exit 4")}},
			"createContainer hook /bin/sh: exit status 4"},
		{"timeout", specs.Hooks{Prestart: []specs.Hook{func() specs.Hook { h := hook("sleep 10"); h.Timeout = &timeout; return h }()}},
			"prestart hook /bin/sh: timed out after 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.hako("create", "--bundle", e.bundle([]string{"true"}, func(s *specs.Spec) { s.Hooks = &tc.hooks }), e.id(tc.name))
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("create: %+v, want %q", r, tc.want)
			}
			e.sameAs(before)
		})
	}
	t.Run("poststart_fails_the_start", func(t *testing.T) {
		id := e.id("poststart")
		e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststart: []specs.Hook{hook("exit 5")}}
		}), id)
		if r := e.hako("start", id); r.code == 0 || !strings.Contains(r.stderr, "poststart hook /bin/sh: exit status 5") {
			t.Errorf("start: %+v", r)
		}
		e.waitStatus(id, "stopped")
		e.mustHako("delete", id)
	})
	t.Run("poststop_only_warns", func(t *testing.T) {
		id := e.id("poststop")
		e.mustHako("create", "--bundle", e.bundle([]string{"true"}, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("exit 6")}}
		}), id)
		r := e.hako("delete", id)
		if r.code != 0 || !strings.Contains(r.stderr, "poststop hook /bin/sh: exit status 6") || !strings.Contains(r.stderr, "level=warning") {
			t.Errorf("delete: %+v", r)
		}
	})
}

// TestPoststartSeesProgram: `run` has the init start the program without
// the exec fifo, and takes the sync socket's close (the exec) for the
// start: a poststart hook must find the program running in the init's
// place, not hako. Both inits: the C stage, and the Go init that waits
// itself where a startContainer hook needs it (the hook sleeps, so a
// poststart run before the exec would find hako), in the foreground and
// detached, and with a preserved descriptor (moved onto the sync
// socket's number just before the exec).
func TestPoststartSeesProgram(t *testing.T) {
	e := newEnv(t)
	extra, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	for _, tc := range []struct {
		name                      string
		goInit, detach, preserved bool
	}{
		{"stage", false, false, false},
		{"stage-detached", false, true, false},
		{"stage-preserved", false, false, true},
		{"go-init", true, false, false},
		{"go-init-detached", true, true, false},
		{"go-init-preserved", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cmdline")
			// The state's pid, then that process's command line.
			h := hook(`p=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); tr '\0' ' ' < /proc/$p/cmdline > ` + out)
			id := e.id("poststart-" + tc.name)
			bundle := e.bundle([]string{"sleep", "0.5"}, func(s *specs.Spec) {
				s.Hooks = &specs.Hooks{Poststart: []specs.Hook{h}}
				if tc.goInit {
					s.Hooks.StartContainer = []specs.Hook{hook("sleep 0.3")}
				}
			})
			args := []string{"--root", e.root, "run", "--bundle", bundle}
			if tc.detach {
				args = append(args, "-d")
			}
			cmd := exec.Command(hakoBin, args...)
			if tc.preserved {
				cmd.Args = append(cmd.Args, "--preserve-fds", "1")
				cmd.ExtraFiles = []*os.File{extra}
			}
			cmd.Args = append(cmd.Args, id)
			// A file, not a pipe: a detached init keeps hako's stdio.
			log := e.tempFile()
			defer log.Close()
			cmd.Stdout, cmd.Stderr = log, log
			if err := cmd.Run(); err != nil {
				t.Fatalf("run: %v\n%s", err, readAll(t, log))
			}
			if tc.detach {
				e.hako("delete", "-f", id)
			}
			if b, err := os.ReadFile(out); err != nil || string(b) != "sleep 0.5 " {
				t.Errorf("poststart hook saw %q (%v), want the program's command line", b, err)
			}
		})
	}
}

// run holds the container's mount namespace until the program has ended
// and lets go of it while the delete goes on; the poststop hooks come
// after its teardown (a hook that frees a volume must find it unused):
// by then hako (the hook's parent) holds no namespace file.
func TestPoststopAfterMountNamespace(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(t.TempDir(), "fds")
	bundle := e.bundle([]string{"true"}, func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststop: []specs.Hook{hook("ls -l /proc/$PPID/fd > " + out)}}
	})
	e.mustHako("run", "--bundle", bundle, e.id("poststop-mnt"))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "mnt:[") {
		t.Errorf("hako still holds a mount namespace when poststop hooks run:\n%s", b)
	}
}
