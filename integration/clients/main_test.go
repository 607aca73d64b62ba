// Package clients proves that real clients run their containers on hako:
// a private dockerd (and the containerd it starts for itself) gets hako
// and runc as runtimes, and every scenario (TestDocker*) runs under both,
// hako's result compared with runc's; TestMain prints the tally of those
// scenario runs last. (ctr and podman have their own tests here.)
//
// Run, as root, after `make build`:
//
//	cd integration && go test -count=1 -v -timeout 20m ./clients/
//	go test -count=1 -v -run TestDocker ./clients/     # Docker alone
//	HAKO_BIN_DIR=/other/bin go test ...               # another build of hako
//
// Nothing is pulled: the image is `docker import` of a busybox-static
// rootfs plus the testinit probe. Everything the daemon makes lives in one
// temporary directory (data root, exec root with containerd's state and the
// runtimes' --root, the API socket) and under one cgroup parent
// (/hako-clients-<pid>); TestMain removes all of it at the end.
package clients

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hako.dev/integration/fixture"
)

// dockerCLI is Debian's docker.io client, the same version as the daemon
// (/usr/local/bin may hold a newer client that speaks another API version).
const dockerCLI = "/usr/bin/docker"

// img is the imported busybox + testinit image.
const img = "hako-clients/busybox:1"

// daemon is the private dockerd and what it was given.
type daemon struct {
	dir      string // the temporary directory that holds all of its state
	sock     string // the API socket
	execRoot string
	cgParent string // --cgroup-parent, absolute: /hako-clients-<pid>
	hakoBin  string
	log      string // dockerd's (and its containerd's) output
	cmd      *exec.Cmd
	cliEnv   []string // DOCKER_HOST and DOCKER_CONFIG for the docker CLI
	// hostPaths are files and directories outside dir that dockerd,
	// containerd or the shims create and did not exist before; removed
	// at the end if they are empty (or, for key.json, ours).
	hostPaths []string
}

var dd *daemon

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("clients: need root: skipped")
		return 0
	}
	// hako's cache of compiled seccomp profiles (every client's container
	// brings one): the tests' own, not the host's /run/hako-cache. The
	// daemons and so hako inherit it.
	cache, err := os.MkdirTemp("", "hako-seccomp-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 1
	}
	defer os.RemoveAll(cache)
	os.Setenv("HAKO_SECCOMP_CACHE", filepath.Join(cache, "seccomp"))
	flag.Parse()
	if !runsAny(dockerTests) {
		// Only other clients' tests (-run Ctr, -run Pod): no dockerd.
		return m.Run()
	}
	hakoBin, probeBin, err := binaries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 1
	}
	setup := exec.Command("../../hack/setup.sh", "docker.io")
	if out, err := setup.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "clients: hack/setup.sh docker.io: %v\n%s", err, out)
		return 1
	}
	// Pdeathsig follows the thread that started dockerd: keep this one.
	runtime.LockOSThread()
	d, err := startDaemon(hakoBin)
	if d != nil {
		defer d.stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		if d != nil {
			fmt.Fprintf(os.Stderr, "dockerd log:\n%s\n", tail(d.log, 40))
		}
		return 1
	}
	dd = d
	if err := d.importImage(probeBin); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 1
	}
	start := time.Now()
	code := m.Run()
	printSummary(time.Since(start))
	return code
}

// dockerTests are the tests that need the daemon.
var dockerTests = []string{"TestDockerRun", "TestDockerIsolation", "TestDockerResources", "TestDockerLifecycle"}

// runsAny tells whether -test.run selects one of the tests (its first
// element is matched against top-level names, as the testing package does).
func runsAny(tests []string) bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	pat := f.Value.String()
	first, depth := pat, 0
split: // at the first '/' outside () and [], as the testing package splits
	for i, c := range pat {
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '/':
			if depth == 0 {
				first = pat[:i]
				break split
			}
		}
	}
	re, err := regexp.Compile(first)
	if err != nil {
		return true
	}
	for _, t := range tests {
		if re.MatchString(t) {
			return true
		}
	}
	return false
}

// binaries finds the hako and testinit that `make build` wrote, or those
// in $HAKO_BIN_DIR.
func binaries() (hako, probe string, err error) {
	dir := os.Getenv("HAKO_BIN_DIR")
	if dir == "" {
		dir = "../../bin"
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", err
	}
	hako, probe = filepath.Join(dir, "hako"), filepath.Join(dir, "testinit")
	for _, f := range []string{hako, probe} {
		if _, err := os.Stat(f); err != nil {
			return "", "", fmt.Errorf("%w (run `make build` first, or set HAKO_BIN_DIR)", err)
		}
	}
	return hako, probe, nil
}

// hostPathsDockerMakes are what dockerd 20.10, its containerd and the
// shims create outside --data-root and --exec-root: the trust key, the
// plugin directory and the shims' sockets (containerd 1.6 puts them in
// /run/containerd/s whatever its state directory, hashed with its socket
// path, so they cannot collide with another containerd's).
var hostPathsDockerMakes = []string{
	"/etc/docker/key.json", "/etc/docker",
	"/run/docker/plugins", "/run/docker",
	"/run/containerd/s", "/run/containerd",
}

func startDaemon(hakoBin string) (*daemon, error) {
	// Without --containerd, dockerd uses the system containerd when
	// /run/containerd/containerd.sock exists and starts its own otherwise:
	// make sure it will be its own.
	if _, err := os.Stat("/run/containerd/containerd.sock"); err == nil {
		return nil, errors.New("a system containerd listens on /run/containerd/containerd.sock: dockerd would share it, refusing")
	}
	dir, err := os.MkdirTemp("", "hako-clients-")
	if err != nil {
		return nil, err
	}
	d := &daemon{
		dir:      dir,
		sock:     filepath.Join(dir, "docker.sock"),
		execRoot: filepath.Join(dir, "exec"),
		cgParent: fmt.Sprintf("/hako-clients-%d", os.Getpid()),
		hakoBin:  hakoBin,
		log:      filepath.Join(dir, "dockerd.log"),
	}
	for _, p := range hostPathsDockerMakes {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			d.hostPaths = append(d.hostPaths, p)
		}
	}
	d.cliEnv = []string{"DOCKER_HOST=unix://" + d.sock, "DOCKER_CONFIG=" + filepath.Join(dir, "cli")}
	conf := filepath.Join(dir, "daemon.json") // not /etc/docker/daemon.json
	if err := os.WriteFile(conf, []byte("{}\n"), 0o644); err != nil {
		return d, err
	}
	logf, err := os.Create(d.log)
	if err != nil {
		return d, err
	}
	defer logf.Close()
	d.cmd = exec.Command("dockerd",
		"--config-file", conf,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", d.execRoot,
		"-H", "unix://"+d.sock,
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--iptables=false", "--ip-masq=false", "--bridge=none",
		"--cgroup-parent", d.cgParent,
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--add-runtime", "hako="+hakoBin,
	)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := d.cmd.Start(); err != nil {
		d.cmd = nil
		return d, fmt.Errorf("start dockerd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			d.cmd = nil
			return d, fmt.Errorf("dockerd exited at start-up: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if _, _, code := d.cli(10*time.Second, nil, "version", "--format", "{{.Server.Version}}"); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			return d, errors.New("dockerd does not answer after 60 s")
		}
	}
	go func() { <-exited }() // stop() waits through the process itself
	return d, d.checkPrivateContainerd()
}

// checkPrivateContainerd proves the containerd dockerd talks to is the one
// it started under our exec root, as its child.
func (d *daemon) checkPrivateContainerd() error {
	b, err := os.ReadFile(filepath.Join(d.execRoot, "containerd", "containerd.pid"))
	if err != nil {
		return fmt.Errorf("dockerd did not start a containerd of its own: %w", err)
	}
	pid := strings.TrimSpace(string(b))
	st, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return fmt.Errorf("containerd %s: %w", pid, err)
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	if len(f) < 2 || f[1] != strconv.Itoa(d.cmd.Process.Pid) {
		return fmt.Errorf("containerd %s is not dockerd's child (stat: %s)", pid, st)
	}
	return nil
}

// cli runs the docker client against the private daemon.
func (d *daemon) cli(timeout time.Duration, stdin []byte, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dockerCLI, args...)
	cmd.Env = append(os.Environ(), d.cliEnv...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		code = ee.ExitCode()
	default:
		code = -1
		e.WriteString(err.Error())
	}
	return o.String(), e.String(), code
}

// importImage makes the test image from fixture's busybox rootfs, the
// probe at /bin/testinit and a few users for --user scenarios.
func (d *daemon) importImage(probe string) error {
	b := filepath.Join(d.dir, "image")
	if _, err := fixture.Build(b, fixture.Options{Probe: probe}); err != nil {
		return err
	}
	rootfs := filepath.Join(b, "rootfs")
	for name, line := range map[string]string{
		"etc/passwd": "app:x:1000:1000:app:/home/app:/bin/sh\n",
		"etc/group":  "app:x:1000:\nextra:x:2000:app\n",
	} {
		f, err := os.OpenFile(filepath.Join(rootfs, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	tarball, err := exec.Command("tar", "-C", rootfs, "-c", ".").Output()
	if err != nil {
		return fmt.Errorf("tar %s: %w", rootfs, err)
	}
	if _, e, code := d.cli(60*time.Second, tarball, "import", "--change", `CMD ["sh"]`, "-", img); code != 0 {
		return fmt.Errorf("docker import: exit %d: %s", code, e)
	}
	return os.RemoveAll(b)
}

// stop removes every container and volume, stops dockerd by its pid, and
// removes what it left: shims, mounts, cgroups, the temporary directory
// and the host paths it created.
func (d *daemon) stop() {
	if d.cmd != nil {
		if out, _, code := d.cli(30*time.Second, nil, "ps", "-aq"); code == 0 && strings.TrimSpace(out) != "" {
			d.cli(120*time.Second, nil, append([]string{"rm", "-f", "-v"}, strings.Fields(out)...)...)
		}
		d.cli(30*time.Second, nil, "volume", "prune", "-f")
		p := d.cmd.Process
		p.Signal(syscall.SIGTERM)
		if !waitGone(p.Pid, 30*time.Second) {
			fmt.Fprintf(os.Stderr, "clients: dockerd %d ignored SIGTERM for 30 s: SIGKILL\n", p.Pid)
			p.Kill()
			waitGone(p.Pid, 5*time.Second)
		}
	}
	// Shims outlive dockerd only if a container did: they are ours (their
	// command line names our exec root), so they go by pid.
	for _, pid := range pidsMentioning(d.dir) {
		fmt.Fprintf(os.Stderr, "clients: left behind: process %d (%s): SIGKILL\n", pid, cmdline(pid))
		unix.Kill(pid, unix.SIGKILL)
		waitGone(pid, 5*time.Second)
	}
	for _, m := range mountsUnder(d.dir) {
		unix.Unmount(m, unix.MNT_DETACH)
	}
	for _, c := range removeCgroups(d.cgParent) {
		fmt.Fprintf(os.Stderr, "clients: cannot remove cgroup %s\n", c)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
	}
	for _, p := range d.hostPaths {
		os.Remove(p) // only empty directories, and the key dockerd made
	}
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil ||
			bytes.Contains(st, []byte(") Z ")) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// pidsMentioning lists the processes whose command line contains s.
func pidsMentioning(s string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if strings.Contains(cmdline(pid), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// mountsUnder lists the mount points below dir, deepest (latest) first.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var ms []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			ms = append([]string{f[4]}, ms...)
		}
	}
	return ms
}

// removeCgroups removes the cgroup parent in every hierarchy, children
// first, and returns what could not be removed.
func removeCgroups(parent string) []string {
	tops, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
	var failed []string
	for _, top := range tops {
		var dirs []string
		filepath.WalkDir(top, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				failed = append(failed, dirs[i])
			}
		}
	}
	return failed
}

func tail(file string, n int) string {
	b, _ := os.ReadFile(file)
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}
