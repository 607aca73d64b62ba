package clients

// Helpers shared by the containerd (ctr) and podman tests: the image
// tarball both import, running a client command, the scenario table that
// runs everything under runc and then hako, and the clean-up of what the
// clients leave outside their temporary directory.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// ctrImage is the name both clients know the test image by.
const ctrImage = "hako.test/busybox:1"

// ctrRuntime is one OCI runtime a scenario runs under.
type ctrRuntime struct {
	name string // "runc" or "hako"
	bin  string // absolute path
}

// ctrRuntimes finds runc and the hako (and testinit) that `make build`
// wrote, or those in $HAKO_BIN_DIR. runc comes first: its result is the
// reference hako's is compared with.
func ctrRuntimes(t *testing.T) (rts []ctrRuntime, probe string) {
	t.Helper()
	dir := os.Getenv("HAKO_BIN_DIR")
	if dir == "" {
		dir = "../../bin"
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	hako, probe := filepath.Join(dir, "hako"), filepath.Join(dir, "testinit")
	for _, f := range []string{hako, probe} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v (run `make build` first, or set HAKO_BIN_DIR)", err)
		}
	}
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Fatalf("runc, the reference: %v (apt-get install runc)", err)
	}
	return []ctrRuntime{{"runc", runc}, {"hako", hako}}, probe
}

// ctrNeedRoot skips unless root, then installs the client's packages.
func ctrNeedRoot(t *testing.T, pkgs ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	out, err := exec.Command("../../hack/setup.sh", pkgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("hack/setup.sh %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
}

// ctrScenario is one row of a client's table: run drives the client for
// one runtime, checks what must hold whatever the runtime, and returns what
// it saw in a form that must be the same under hako as under runc ("" compares
// nothing).
type ctrScenario[C any] struct {
	name    string
	timeout time.Duration // for one runtime's run; 0 means 30 s
	run     func(c C) string
}

// ctrRunTable runs each scenario as TestX/<scenario>/runc, then
// TestX/<scenario>/hako, each with its own context and timeout; newCase
// builds the per-run handle (and registers its clean-up on t). hako's
// observation must equal runc's when runc's run passed.
func ctrRunTable[C any](t *testing.T, rts []ctrRuntime, table []ctrScenario[C],
	newCase func(t *testing.T, ctx context.Context, rt ctrRuntime, prefix string) C) {
	for _, sc := range table {
		t.Run(sc.name, func(t *testing.T) {
			var ref string
			refOK := false
			for _, rt := range rts {
				var obs string
				returned := false
				ok := t.Run(rt.name, func(t *testing.T) {
					t.Cleanup(func() { tally.add(rt.name, t) }) // TestMain's summary
					timeout := sc.timeout
					if timeout == 0 {
						timeout = 30 * time.Second
					}
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					defer cancel()
					start := time.Now()
					c := newCase(t, ctx, rt, ctrPrefix(sc.name, rt.name))
					obs = sc.run(c)
					returned = true
					if ctx.Err() != nil {
						t.Errorf("scenario timed out after %s", timeout)
					}
					t.Logf("%s took %s", rt.name, time.Since(start).Round(time.Millisecond))
					if rt.name != "runc" && refOK && obs != ref {
						t.Errorf("%s saw something else than runc:\n--- runc:\n%s\n--- %s:\n%s", rt.name, ref, rt.name, obs)
					}
				})
				if rt.name == "runc" {
					ref, refOK = obs, ok && returned
				}
			}
		})
	}
}

// ctrPrefix makes a container name prefix from a scenario and a runtime:
// short, and valid for both clients.
func ctrPrefix(scenario, rt string) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(scenario))
	return fmt.Sprintf("%s-%s", s, rt)
}

// ctrRes is what one client command did.
type ctrRes struct {
	cmd      string
	out, err string
	code     int // -1: did not run or was killed
}

func (r ctrRes) String() string {
	return fmt.Sprintf("`%s`: exit %d\nstdout: %s\nstderr: %s", r.cmd, r.code, ctrClip(r.out), ctrClip(r.err))
}

func ctrClip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 3000 {
		s = s[:1500] + "\n…\n" + s[len(s)-1500:]
	}
	return s
}

// ctrCommand runs bin with args, stdin and extra environment, bound by ctx.
func ctrCommand(ctx context.Context, env []string, stdin []byte, bin string, args ...string) ctrRes {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := ctrRes{cmd: strings.Join(append([]string{filepath.Base(bin)}, args...), " "), out: o.String(), err: e.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.err += err.Error()
	}
	return r
}

// ctrScript runs a command line on a new pty, through script(1): the
// client sees a terminal on its stdin, stdout and stderr.
func ctrScript(ctx context.Context, env []string, argv ...string) ctrRes {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = ctrShQuote(a)
	}
	r := ctrCommand(ctx, env, nil, "script", "-qec", strings.Join(q, " "), "/dev/null")
	r.out = strings.NewReplacer("\r", "", "\x00", "").Replace(r.out)
	return r
}

func ctrShQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=/.:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ctrLines keeps the lines of s that match re, in order.
func ctrLines(s, re string) string {
	rx := regexp.MustCompile(re)
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if rx.MatchString(l) {
			keep = append(keep, strings.TrimSpace(l))
		}
	}
	return strings.Join(keep, "\n")
}

// ctrMountOpts maps each of the mount points to the per-mount options
// /proc/self/mountinfo (in text) shows for it: "/data=ro,relatime".
func ctrMountOpts(mountinfo string, points ...string) string {
	var out []string
	for _, p := range points {
		opts := "(absent)"
		for _, l := range strings.Split(mountinfo, "\n") {
			if f := strings.Fields(l); len(f) > 5 && f[4] == p {
				opts = f[5] // the last mount on p wins
			}
		}
		out = append(out, p+"="+opts)
	}
	return strings.Join(out, " ")
}

// ctrBuildImage writes a docker-archive tarball (what `docker save`
// writes; both `ctr image import` and `podman load` read it) of fixture's
// busybox rootfs plus testinit at /bin/testinit and a user app (1000,
// groups 1000 and 2000) into dir/image.tar.
func ctrBuildImage(dir, probe string) (string, error) {
	b := filepath.Join(dir, "bundle")
	if _, err := fixture.Build(b, fixture.Options{Probe: probe}); err != nil {
		return "", err
	}
	defer os.RemoveAll(b)
	rootfs := filepath.Join(b, "rootfs")
	for name, line := range map[string]string{
		"etc/passwd": "app:x:1000:1000:app:/home/app:/bin/sh\n",
		"etc/group":  "app:x:1000:\nextra:x:2000:app\n",
	} {
		f, err := os.OpenFile(filepath.Join(rootfs, name), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "home", "app"), 0o755); err != nil {
		return "", err
	}
	if err := os.Chown(filepath.Join(rootfs, "home", "app"), 1000, 1000); err != nil {
		return "", err
	}

	var layer bytes.Buffer
	if err := ctrTarTree(&layer, rootfs); err != nil {
		return "", err
	}
	layerSum := sha256.Sum256(layer.Bytes())
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      "2024-01-01T00:00:00Z",
		"config": map[string]any{
			"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd": []string{"sh"},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(layerSum[:])}},
	})
	if err != nil {
		return "", err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": []string{ctrImage}, "Layers": []string{"layer.tar"},
	}})
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "image.tar")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{"layer.tar", layer.Bytes()}, {configName, config}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			f.Close()
			return "", err
		}
		if _, err := tw.Write(e.data); err != nil {
			f.Close()
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return "", err
	}
	return out, f.Close()
}

// ctrTarTree writes the tree at root as a layer: directories, files and
// symlinks, with their modes and owners.
func ctrTarTree(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = rel
		if fi.IsDir() {
			h.Name += "/"
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			h.Uid, h.Gid = int(st.Uid), int(st.Gid)
		}
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// ctrHostPaths are paths outside a client's temporary directory that it
// creates whatever it is told; those that did not exist before are
// removed at the end, when empty (files only when listed as files).
type ctrHostPaths struct {
	dirs, files []string
}

func ctrMissing(paths ...string) []string {
	var missing []string
	for _, p := range paths {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, p)
		}
	}
	return missing
}

func (h ctrHostPaths) remove(t *testing.T) {
	for _, f := range h.files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("clean-up: %v", err)
		}
	}
	for _, d := range h.dirs { // deepest first
		os.Remove(d) // only if empty: someone else may use it now
	}
}

// ctrKillLeftovers SIGKILLs the processes that mention dir.
func ctrKillLeftovers(t *testing.T, dir string) {
	for _, pid := range pidsMentioning(dir) {
		t.Logf("clean-up: left behind: process %d (%s): SIGKILL", pid, cmdline(pid))
		unix.Kill(pid, unix.SIGKILL)
		waitGone(pid, 5*time.Second)
	}
}

// ctrUnmountUnder detaches every mount at or below dir, deepest first.
func ctrUnmountUnder(dir string) {
	for _, m := range mountsUnder(dir) {
		unix.Unmount(m, unix.MNT_DETACH)
	}
}

// ctrCgroupFile reads a cgroup v1 file of the process pid (as seen from
// the host): ctrl is the controller ("memory", "freezer", "pids").
func ctrCgroupFile(pid int, ctrl, file string) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == ctrl {
				v, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, f[2], file))
				return strings.TrimSpace(string(v)), err
			}
		}
	}
	return "", fmt.Errorf("process %d is in no %s cgroup", pid, ctrl)
}

// ctrHostIDs reads the host uid and gid lines of a process.
func ctrHostIDs(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	return ctrLines(string(b), `^(Uid|Gid):`)
}

// ctrBoundingLacks tells whether this process's bounding set lacks cap
// (a number): such a capability can be granted to no container here.
func ctrBoundingLacks(capNum uint) (bool, string) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false, ""
	}
	line := ctrLines(string(b), `^CapBnd:`)
	f := strings.Fields(line)
	if len(f) != 2 {
		return false, line
	}
	v, err := strconv.ParseUint(f[1], 16, 64)
	if err != nil {
		return false, line
	}
	return v&(1<<capNum) == 0, line
}

// ctrSeccompDenyMkdir is a seccomp profile that allows everything but
// mkdir and mkdirat, which fail with EPERM.
const ctrSeccompDenyMkdir = `{
	"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
	"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
}`

// ctrTTYLines keeps what `testinit isatty` and tty(1) printed on a
// terminal, whatever else the client wrote around it (the echoed ^@ of
// ctr's console set-up, a resize warning racing the exit).
func ctrTTYLines(out string) string {
	return strings.Join(regexp.MustCompile(`[0-2]=(true|false)|/dev/pts/\d+|not a tty`).FindAllString(out, -1), " ")
}

// ctrWaitCaught waits until process pid handles sig: a handler (SigCgt in
// /proc/<pid>/status) or the signal blocked for a signalfd (SigBlk, as
// catatonit does). A container's init ignores a signal it does neither
// for, so signalling it earlier would be lost.
func ctrWaitCaught(ctx context.Context, pid int, sig unix.Signal) error {
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return err
		}
		for _, l := range strings.Split(ctrLines(string(b), `^Sig(Cgt|Blk):`), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				if m, err := strconv.ParseUint(f[1], 16, 64); err == nil && m&(1<<(uint(sig)-1)) != 0 {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("process %d installed no handler for %v: %w", pid, sig, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
