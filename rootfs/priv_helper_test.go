package rootfs_test

// The re-executed half of the privileged tests. Prepare pivots the root and
// mounts over the rootfs, so it never runs in the test process: each case
// starts the test binary again (TestHelperProcess) in a new mount namespace,
// with the case as JSON in an environment variable. That helper builds the
// root, looks at the result from inside (mountinfo, stat) and prints it as
// one JSON line; its namespace, and every mount in it, dies with it.
//
//	test process (host namespace)
//	  └─ helper, stage "host" (optional: plays a host whose "/" is rshared)
//	       └─ helper, stage "prepare": Setup, Prepare, Finish, report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"hako.dev/rootfs"
)

const (
	helperEnv    = "HAKO_ROOTFS_PRIV_JOB"
	resultMarker = "HAKO-ROOTFS-RESULT "
	stageHost    = "host"
	stagePrepare = "prepare"
)

// job is one privileged case, as the helper receives it.
type job struct {
	Stage  string
	Nested bool // started by the host stage, not by the test process
	Rootfs string
	Spec   *specs.Spec
	// Host, if not nil, adds a helper stage that plays the host: it runs
	// these steps in its own mount namespace, then the prepare stage in a
	// namespace cloned from it (whose mounts are its peers when it made
	// them shared), and reports what propagated back to it.
	Host []step
	// Setup runs in the prepare stage's namespace before Prepare.
	Setup []step
	// Clone adds namespaces (CLONE_NEWPID, CLONE_NEWNET) to the prepare
	// stage's new mount namespace.
	Clone uintptr
	// UserNS gives the prepare stage a user namespace mapping ids
	// 0-65535 to themselves: nothing is owned differently, but mounts
	// inherited from the stage before are locked and mknod is refused.
	UserNS bool
	// Races are pairs of names in the rootfs swapped over and over with
	// renameat2(RENAME_EXCHANGE) from other threads until the root switch.
	Races []race
	// Stat are paths looked at (lstat, readlink, read) in the new root.
	Stat []string
}

// step is a mount(2) in a helper's own mount namespace, before Prepare.
type step struct {
	Source, Target, FSType string
	Flags                  uintptr
}

type race struct{ A, B string }

// result is what the helper saw.
type result struct {
	SetupErr string
	Prepare  *errInfo // nil: Prepare succeeded
	Finish   *errInfo
	// Mounts is the mount table from inside the new root.
	Mounts []*mountinfo.Info
	// Escaped are the mounts made during Prepare whose mount point (as
	// seen before the root switch) is outside the rootfs.
	Escaped []string
	// Propagated are mounts that appeared in the host stage's namespace
	// while the prepare stage ran.
	Propagated []string
	Files      map[string]fileInfo
}

type errInfo struct {
	Text  string
	Errno int // the syscall.Errno inside, 0 if none
	// Mount is set when the error is a *rootfs.MountError.
	Mount *rootfs.MountError
}

type fileInfo struct {
	Err          string
	Mode         uint32 // st_mode: type and permission bits
	UID, GID     uint32
	Major, Minor uint32
	Mtime        int64
	Link         string
	Data         string
	Names        []string
}

// TestHelperProcess is not a test: it is the helper the privileged tests
// start. Run by `go test` directly it does nothing.
func TestHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		return
	}
	var j job
	var res result
	if err := json.Unmarshal([]byte(raw), &j); err != nil {
		res.SetupErr = "decode job: " + err.Error()
	} else if err := cutFromHost(j); err != nil {
		res.SetupErr = err.Error()
	} else if j.Stage == stageHost {
		res = hostStage(j)
	} else {
		res = prepareStage(j)
	}
	out, err := json.Marshal(res)
	if err != nil {
		out, _ = json.Marshal(result{SetupErr: "encode result: " + err.Error()})
	}
	fmt.Printf("\n%s%s\n", resultMarker, out)
	os.Exit(0) // before the testing package prints anything
}

// cutFromHost makes the first helper's mounts slaves of the host's, as
// unshare(1) does: on a host whose "/" is shared (systemd) the helper's own
// setup mounts would otherwise reach it. A nested stage keeps what the
// host stage made.
func cutFromHost(j job) error {
	if j.Nested {
		return nil
	}
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	return nil
}

func prepareStage(j job) (res result) {
	// The root switch and the fds that name mounts stay on one thread.
	runtime.LockOSThread()
	if err := prepare(j, &res); err != nil {
		res.SetupErr = err.Error()
	}
	return res
}

func prepare(j job, res *result) error {
	if err := runSteps(j.Setup); err != nil {
		return err
	}
	// /proc as the host mounted it: after the pivot the helper reads
	// self/mountinfo through it (the container may have no /proc); the
	// kernel shows paths relative to the reader's root at open time.
	proc, err := os.OpenFile("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer proc.Close()
	known, err := mountIDs()
	if err != nil {
		return err
	}
	stop := startRaces(j.Rootfs, j.Races)
	defer stop()
	checked := false
	c := rootfs.Config{Spec: j.Spec, Rootfs: j.Rootfs}
	c.BeforePivot = func() error {
		// The last moment the host's paths are visible: every mount
		// made so far must be inside the rootfs.
		stop()
		checked = true
		res.Escaped, err = escaped(known, j.Rootfs)
		return err
	}
	if err := rootfs.Prepare(c); err != nil {
		res.Prepare = describe(err)
		if !checked {
			stop()
			res.Escaped, _ = escaped(known, j.Rootfs)
		}
		return nil
	}
	if err := rootfs.Finish(c); err != nil {
		res.Finish = describe(err)
	}
	fd, err := unix.Openat(int(proc.Fd()), "self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("openat self/mountinfo", err)
	}
	f := os.NewFile(uintptr(fd), "mountinfo")
	defer f.Close()
	if res.Mounts, err = mountinfo.GetMountsFromReader(f, nil); err != nil {
		return err
	}
	res.Files = map[string]fileInfo{}
	for _, p := range j.Stat {
		res.Files[p] = look(p)
	}
	return nil
}

// hostStage stands for the host: its namespace is the one the prepare
// stage's mounts must not reach.
func hostStage(j job) (res result) {
	runtime.LockOSThread()
	err := runSteps(j.Host)
	var known map[int]bool
	if err == nil {
		known, err = mountIDs()
	}
	if err != nil {
		res.SetupErr = err.Error()
		return res
	}
	inner := j
	inner.Stage, inner.Nested = stagePrepare, true
	r, stderr, err := runStage(inner)
	if err != nil {
		res.SetupErr = fmt.Sprintf("prepare stage: %v\n%s", err, stderr)
		return res
	}
	res = *r
	if res.Propagated, err = newMounts(known, nil); err != nil {
		res.SetupErr = err.Error()
	}
	return res
}

// runStage starts the helper for j in new namespaces and returns what it
// printed.
func runStage(j job) (*result, string, error) {
	data, err := json.Marshal(j)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/proc/self/exe", "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(data))
	attr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Pdeathsig: unix.SIGKILL}
	if j.Stage == stagePrepare {
		attr.Cloneflags |= j.Clone
		if j.UserNS {
			ids := []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
			attr.Cloneflags |= unix.CLONE_NEWUSER
			attr.UidMappings, attr.GidMappings = ids, ids
		}
	}
	cmd.SysProcAttr = attr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, resultMarker); ok {
			var r result
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return nil, stderr.String(), err
			}
			return &r, stderr.String(), nil
		}
	}
	if runErr == nil {
		runErr = errors.New("no result printed")
	}
	return nil, stdout.String() + stderr.String(), runErr
}

// runPriv runs one case and checks that the host's mount table is the
// same before and after: whatever the case did stayed in its namespaces.
func runPriv(t *testing.T, j job) result {
	t.Helper()
	before := hostMounts(t)
	j.Stage = stagePrepare
	if j.Host != nil {
		j.Stage = stageHost
	}
	res, stderr, err := runStage(j)
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr)
	}
	checkHostMounts(t, before)
	if res.SetupErr != "" {
		t.Fatalf("helper setup: %s", res.SetupErr)
	}
	return *res
}

// hostMounts are the test process's mounts (skipping unless root);
// checkHostMounts fails the test if any other appeared since.
func hostMounts(t *testing.T) map[int]bool {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts in a new mount namespace")
	}
	ids, err := mountIDs()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func checkHostMounts(t *testing.T, before map[int]bool) {
	t.Helper()
	if leaked, err := newMounts(before, nil); err != nil || len(leaked) > 0 {
		t.Errorf("mounts left in the host namespace: %q %v", leaked, err)
	}
}

func runSteps(steps []step) error {
	for _, s := range steps {
		if err := unix.Mount(s.Source, s.Target, s.FSType, s.Flags, ""); err != nil {
			return fmt.Errorf("setup: mount %s on %s (%s): %w", s.Source, s.Target, rootfs.FlagString(s.Flags), err)
		}
	}
	return nil
}

func mountIDs() (map[int]bool, error) {
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil, err
	}
	ids := map[int]bool{}
	for _, m := range mounts {
		ids[m.ID] = true
	}
	return ids, nil
}

// newMounts lists the mounts not in known (and kept by keep, if not
// nil), as "mountpoint fstype optional-fields".
func newMounts(known map[int]bool, keep func(*mountinfo.Info) bool) ([]string, error) {
	mounts, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mounts {
		if !known[m.ID] && (keep == nil || keep(m)) {
			out = append(out, strings.TrimSpace(m.Mountpoint+" "+m.FSType+" "+m.Optional))
		}
	}
	return out, nil
}

// escaped lists the mounts not in known whose mount point is outside root.
func escaped(known map[int]bool, root string) ([]string, error) {
	return newMounts(known, func(m *mountinfo.Info) bool {
		return m.Mountpoint != root && !strings.HasPrefix(m.Mountpoint, root+"/")
	})
}

// startRaces swaps each pair of names until stop is called. The names
// are reached from an fd of the rootfs directory, which stays valid
// whatever is mounted over it.
func startRaces(root string, races []race) (stop func()) {
	if len(races) == 0 {
		return func() {}
	}
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return func() {}
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	for _, r := range races {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				// EBUSY once one of them is a mount point: fine.
				_ = unix.Renameat2(fd, r.A, fd, r.B, unix.RENAME_EXCHANGE)
			}
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			done.Store(true)
			wg.Wait()
			unix.Close(fd)
		})
	}
}

func describe(err error) *errInfo {
	e := &errInfo{Text: err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		e.Errno = int(errno)
	}
	var me *rootfs.MountError
	if errors.As(err, &me) {
		cp := *me
		cp.Err = nil // an interface: not JSON
		e.Mount = &cp
	}
	return e
}

// look describes the file at p without following a final symlink.
func look(p string) fileInfo {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return fileInfo{Err: err.Error()}
	}
	fi := fileInfo{Mode: st.Mode, UID: st.Uid, GID: st.Gid, Mtime: st.Mtim.Nano()}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		fi.Link, _ = os.Readlink(p)
	case unix.S_IFREG:
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			fi.Data = string(b)
		}
	case unix.S_IFDIR:
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			fi.Names = append(fi.Names, e.Name())
		}
	case unix.S_IFCHR, unix.S_IFBLK:
		fi.Major, fi.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	}
	return fi
}
