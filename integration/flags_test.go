package integration

import (
	"encoding/json"
	"net"
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

// recvFd listens on a unix socket in dir and returns its path and a
// channel that yields the first descriptor sent to it.
func recvFd(t *testing.T, dir string) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(dir, "pidfd.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.File, 1)
	go func() {
		defer l.Close()
		conn, err := l.AcceptUnix()
		if err != nil {
			close(ch)
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 64), make([]byte, 64)
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			close(ch)
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if fds, err := unix.ParseUnixRights(&m); err == nil && len(fds) == 1 {
				ch <- os.NewFile(uintptr(fds[0]), "pidfd")
				return
			}
		}
		close(ch)
	}()
	return path, ch
}

// pidfdPid is the pid a pidfd refers to, from its fdinfo.
func pidfdPid(t *testing.T, f *os.File) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatalf("no Pid in fdinfo: %s", b)
	return 0
}

// runc's flags that clients pass, beyond the lifecycle basics.
func TestClientFlags(t *testing.T) {
	e := newEnv(t)
	id := e.id("flags")
	dir := t.TempDir()
	sock, got := recvFd(t, dir)
	// Single-dash long flags and --rootless, as go-runc may send them.
	e.mustHako("-rootless", "false", "create", "-bundle", e.bundle([]string{"testinit", "sleep"}, nil), "-pidfd-socket", sock, id)
	e.mustHako("start", id)
	initPid := e.state(id).Pid
	if f, ok := <-got; !ok || pidfdPid(t, f) != initPid {
		t.Errorf("create --pidfd-socket: no pidfd of the init %d", initPid)
	} else {
		f.Close()
	}
	if r := e.hako("--rootless", "sometimes", "state", id); r.code == 0 || !strings.Contains(r.stderr, "want true, false or auto") {
		t.Errorf("--rootless sometimes: %+v", r)
	}

	t.Run("exec_pidfd_socket", func(t *testing.T) {
		sock, got := recvFd(t, t.TempDir())
		pidFile := filepath.Join(t.TempDir(), "pid")
		e.mustHako("exec", "-d", "--pid-file", pidFile, "--pidfd-socket", sock, id, "sleep", "20")
		b, _ := os.ReadFile(pidFile)
		want, _ := strconv.Atoi(string(b))
		f, ok := <-got
		if !ok || pidfdPid(t, f) != want {
			t.Fatalf("exec --pidfd-socket: no pidfd of %d", want)
		}
		// The pidfd signals exactly that process.
		if err := unix.PidfdSendSignal(int(f.Fd()), unix.SIGKILL, nil, 0); err != nil {
			t.Error(err)
		}
		f.Close()
	})
	t.Run("exec_preserve_fds", func(t *testing.T) {
		a, _ := os.Open("/etc/hostname")
		defer a.Close()
		cmd := exec.Command(hakoBin, "--root", e.root, "exec", "--preserve-fds", "1", id, "testinit", "fds")
		cmd.ExtraFiles = []*os.File{a}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "3=/etc/hostname\n") || strings.Contains(string(out), "4=") {
			t.Errorf("exec --preserve-fds 1: %v\n%s", err, out)
		}
		if r := e.hako("exec", "--preserve-fds", "40", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "descriptor") {
			t.Errorf("--preserve-fds past our descriptors: %+v", r)
		}
	})
	t.Run("exec_cgroup", func(t *testing.T) {
		// A sub-cgroup of the container's, in every hierarchy.
		var made []string
		for _, h := range cgroupDirs(t) {
			d := filepath.Join(h, "hako", id, "sub")
			if err := os.Mkdir(d, 0o755); err == nil {
				made = append(made, d)
			}
		}
		out := e.mustHako("exec", "--cgroup", "sub", id, "testinit", "cgroup")
		if !strings.Contains(out, "/hako/"+id+"/sub") {
			t.Errorf("exec --cgroup sub:\n%s", out)
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i])
		}
		if r := e.hako("exec", "--cgroup", "nosuch", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
			t.Errorf("exec --cgroup nosuch: %+v", r)
		}
		if r := e.hako("exec", "--cgroup", "memory:sub", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "not supported") {
			t.Errorf("exec --cgroup memory:sub: %+v", r)
		}
	})
	t.Run("exec_paused", func(t *testing.T) {
		e.mustHako("pause", id)
		defer e.mustHako("resume", id)
		if r := e.hako("exec", id, "true"); r.code == 0 || !strings.Contains(r.stderr, "cannot exec in a paused container") {
			t.Errorf("exec into a paused container: %+v", r)
		}
		pidFile := filepath.Join(t.TempDir(), "pid")
		e.mustHako("exec", "-d", "--ignore-paused", "--pid-file", pidFile, id, "sleep", "20")
		b, _ := os.ReadFile(pidFile)
		st, _ := os.ReadFile("/proc/" + string(b) + "/cgroup")
		if len(b) == 0 || !strings.Contains(string(st), "/hako/"+id) {
			t.Errorf("--ignore-paused exec: pid %q, cgroup %s", b, st)
		}
	})
	t.Run("exec_labels_refused_here", func(t *testing.T) {
		// Neither AppArmor nor SELinux is on here: asking is an error,
		// never silently dropped.
		for _, args := range [][]string{{"--apparmor", "docker-default"}, {"--process-label", "system_u:system_r:container_t:s0"}} {
			r := e.hako(append(append([]string{"exec"}, args...), id, "true")...)
			if r.code == 0 || !strings.Contains(r.stderr, "not enabled") {
				t.Errorf("exec %v: %+v", args, r)
			}
		}
	})
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
}

// cgroupDirs are the hierarchies' mount points on this host.
func cgroupDirs(t *testing.T) []string {
	ents, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	for _, e := range ents {
		if e.IsDir() && e.Type()&os.ModeSymlink == 0 {
			out = append(out, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	return out
}

// NOTIFY_SOCKET (systemd Type=notify): the container's READY=1 reaches
// the host's socket with MAINPID its init, and `start` returns only then.
func TestNotifySocket(t *testing.T) {
	e := newEnv(t)
	host := filepath.Join(t.TempDir(), "host.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: host, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	id := e.id("notify")
	bundle := e.bundle([]string{"sh", "-c", "testinit sleep 0.3 -- notify STATUS=warming -- notify READY=1 STATUS=up; exec testinit sleep"}, nil)
	run := func(args ...string) result {
		cmd := exec.Command(hakoBin, append([]string{"--root", e.root}, args...)...)
		cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+host)
		out, errb := e.tempFile(), e.tempFile()
		cmd.Stdout, cmd.Stderr = out, errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code: code, stdout: readAll(t, out), stderr: readAll(t, errb)}
	}
	if r := run("create", "--bundle", bundle, id); r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	begin := time.Now()
	if r := run("start", id); r.code != 0 {
		t.Fatalf("start: %+v", r)
	}
	if d := time.Since(begin); d < 250*time.Millisecond {
		t.Errorf("start returned after %v, before the container's READY=1", d)
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := l.Read(buf)
	want := "MAINPID=" + strconv.Itoa(e.state(id).Pid) + "\nREADY=1\n" // nothing else of the container's
	if err != nil || string(buf[:n]) != want {
		t.Errorf("host socket got %q, %v; want %q", buf[:n], err, want)
	}
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
}

// hako info: the host report, as text and as JSON.
func TestInfo(t *testing.T) {
	e := newEnv(t)
	var in struct {
		CgroupMode  string
		Namespaces  []string
		Hierarchies []struct{ Dir string }
		Seccomp     struct{ Enabled bool }
		Build       struct{ Cgo bool }
	}
	if err := json.Unmarshal([]byte(e.mustHako("info", "--format", "json")), &in); err != nil {
		t.Fatal(err)
	}
	if in.CgroupMode == "" || len(in.Namespaces) != 8 || len(in.Hierarchies) == 0 || !in.Seccomp.Enabled || !in.Build.Cgo {
		t.Errorf("info: %+v", in)
	}
	text := e.mustHako("info")
	for _, w := range []string{"kernel:", "cgroups:     " + in.CgroupMode, "namespaces:  cgroup,ipc,mnt,net,pid,time,user,uts", "seccomp:     yes"} {
		if !strings.Contains(text, w) {
			t.Errorf("info lacks %q:\n%s", w, text)
		}
	}
}

// HOME, when the config's env has none, comes from the container's
// /etc/passwd (or is "/"), for the init and for an exec, as runc sets it.
func TestHomeDefault(t *testing.T) {
	e := newEnv(t)
	id := e.id("home")
	bundle := e.bundle([]string{"sh", "-c", "echo HOME=$HOME; exec testinit sleep"}, func(s *specs.Spec) {
		var env []string
		for _, v := range s.Process.Env {
			if !strings.HasPrefix(v, "HOME=") {
				env = append(env, v)
			}
		}
		s.Process.Env = env
	})
	passwd := "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
	if err := os.WriteFile(filepath.Join(bundle, "rootfs/etc/passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.tempFile()
	cmd := exec.Command(hakoBin, "--root", e.root, "run", "-d", "--bundle", bundle, id)
	cmd.Stdout = out
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"exec", id, "sh", "-c", "echo $HOME"}, "/root\n"},
		{[]string{"exec", "-u", "1000", id, "sh", "-c", "echo $HOME"}, "/home/app\n"},
		{[]string{"exec", "-u", "4242", id, "sh", "-c", "echo $HOME"}, "/\n"},
		{[]string{"exec", "-e", "HOME=/x", id, "sh", "-c", "echo $HOME"}, "/x\n"},
	} {
		if got := e.mustHako(tc.args...); got != tc.want {
			t.Errorf("%v: HOME %q, want %q", tc.args, got, tc.want)
		}
	}
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
	if got := readAll(t, out); !strings.HasPrefix(got, "HOME=/root\n") {
		t.Errorf("init: %q", got)
	}
}
