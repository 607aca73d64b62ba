package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
