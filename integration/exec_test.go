package integration

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestExec(t *testing.T) {
	e := newEnv(t)
	id := e.id("exec")
	e.mustHako("create", "--bundle", e.bundle([]string{"testinit", "sleep"}, func(s *specs.Spec) {
		s.Hostname = "exec-host"
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
	}), id)
	e.mustHako("start", id)
	initPid := e.state(id).Pid

	t.Run("same_container", func(t *testing.T) {
		out := e.mustHako("exec", id, "sh", "-c", "hostname; tr '\\0' ' ' </proc/1/cmdline; echo; testinit cgroup | grep pids")
		if !strings.HasPrefix(out, "exec-host\ntestinit sleep \n") || !strings.Contains(out, ":pids:/hako/"+id) {
			t.Errorf("exec sees:\n%s", out)
		}
		for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc"} {
			want, _ := os.Readlink("/proc/" + strconv.Itoa(initPid) + "/ns/" + ns)
			out := e.mustHako("exec", id, "testinit", "ns")
			if !strings.Contains(out, ns+"="+want) {
				t.Errorf("exec's %s namespace differs from the init's %s:\n%s", ns, want, out)
			}
		}
	})
	t.Run("process_settings", func(t *testing.T) {
		out := e.mustHako("exec", "-u", "1000:1001", "-e", "EXTRA=yes", "--cwd", "/tmp", id, "sh", "-c", "id -u; id -g; echo $EXTRA; pwd; mkdir /tmp/x 2>&1; true")
		if out != "1000\n1001\nyes\n/tmp\nmkdir: can't create directory '/tmp/x': Operation not permitted\n" {
			t.Errorf("exec with settings (and the container's seccomp profile):\n%s", out)
		}
	})
	t.Run("exit_status", func(t *testing.T) {
		if r := e.hako("exec", id, "sh", "-c", "exit 7"); r.code != 7 {
			t.Errorf("exit status: %+v", r)
		}
	})
	t.Run("no_leaked_fds", func(t *testing.T) {
		if out := e.mustHako("exec", id, "testinit", "fds"); len(lines(out)) != 3 {
			t.Errorf("fds in exec:\n%s", out)
		}
	})
	// The stage's end of the sync socket stays open until its program's
	// execve (hako lets go of the sealed binary then): above the
	// preserved descriptors, and closed by that execve.
	t.Run("preserved_fds", func(t *testing.T) {
		a, err := os.Open("/etc/hostname")
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		out, errf := e.tempFile(), e.tempFile()
		cmd := exec.Command(hakoBin, "--root", e.root, "exec", "--preserve-fds", "1", id, "testinit", "fds")
		cmd.ExtraFiles = []*os.File{a}
		cmd.Stdout, cmd.Stderr = out, errf
		if err := cmd.Run(); err != nil {
			t.Fatalf("exec: %v: %s", err, readAll(t, errf))
		}
		// 0-2 and 3, nothing else: the sync socket, moved above 3,
		// closes at the program's execve.
		got := readAll(t, out)
		if !strings.Contains(got, "3=/etc/hostname\n") || len(lines(got)) != 4 {
			t.Errorf("fds in exec with one preserved:\n%s", got)
		}
	})
	// A foreground exec holds the sealed binary no longer than until its
	// program runs (a socket left open in the program, or one the stage
	// never closes, would keep it held until the program's end).
	t.Run("seal_released", func(t *testing.T) {
		cmd := exec.Command(hakoBin, "--root", e.root, "exec", id, "sleep", "5")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Signal(unix.SIGTERM); cmd.Wait() }()
		bin := fileDigest(t, hakoBin)
		st, _ := os.Stat(hakoBin)
		held := func() bool {
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
			for _, fd := range fds {
				// Opened and read here, or gone meanwhile (not held).
				p := fmt.Sprintf("/proc/%d/fd/%s", cmd.Process.Pid, fd.Name())
				fi, err := os.Stat(p)
				if err != nil || !fi.Mode().IsRegular() || fi.Size() != st.Size() {
					continue
				}
				b, err := os.ReadFile(p)
				if sum := sha256.Sum256(b); err == nil && bytes.Equal(sum[:], bin) {
					return true
				}
			}
			return false
		}
		runs := func() bool { // a child of any of its threads
			tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", cmd.Process.Pid))
			for _, f := range tasks {
				kids, _ := os.ReadFile(f)
				for _, k := range strings.Fields(string(kids)) {
					if comm, _ := os.ReadFile("/proc/" + k + "/comm"); string(comm) == "sleep\n" {
						return true
					}
				}
			}
			return false
		}
		deadline := time.Now().Add(5 * time.Second)
		for !runs() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if !runs() {
			t.Fatal("the exec's program never ran")
		}
		for held() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if held() {
			t.Error("hako exec still holds its sealed binary while the program runs")
		}
	})
	t.Run("detach_pid_file", func(t *testing.T) {
		pidFile := t.TempDir() + "/pid"
		e.mustHako("exec", "-d", "--pid-file", pidFile, id, "sleep", "30")
		b, err := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(string(b))
		if err != nil || pid <= 0 {
			t.Fatalf("pid file %q, %v", b, err)
		}
		cg, _ := os.ReadFile("/proc/" + string(b) + "/cgroup")
		if !strings.Contains(string(cg), "/hako/"+id) {
			t.Errorf("detached exec not in the container's cgroup: %s", cg)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if r := e.hako("exec", id, "nosuchcmd"); r.code == 0 || !strings.Contains(r.stderr, `exec: "nosuchcmd": executable file not found in $PATH`) {
			t.Errorf("missing command: %+v", r)
		}
		if r := e.hako("exec", id); r.code == 0 || !strings.Contains(r.stderr, "no command given") {
			t.Errorf("no command: %+v", r)
		}
		if r := e.hako("exec", e.id("nosuch"), "true"); r.code == 0 || !strings.Contains(r.stderr, "container does not exist") {
			t.Errorf("unknown container: %+v", r)
		}
	})
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	if r := e.hako("exec", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "cannot exec in a stopped container") {
		t.Errorf("exec in a stopped container: %+v", r)
	}
	e.mustHako("delete", id)
}
