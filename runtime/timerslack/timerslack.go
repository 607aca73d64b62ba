package timerslack

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// own is the process's timer slack, in ns, once RelaxMonitor has given the
// monitor another (0 until then). Package-level because the state it
// records is the process's: which of its threads carry which slack.
var own atomic.Int64

// RelaxMonitor gives the Go runtime's monitor thread a timer slack of d,
// where GOMAXPROCS is more than 1; it does nothing otherwise, or when
// called again. Changing another thread's slack takes CAP_SYS_NICE: an
// error without it, and nothing changed.
func RelaxMonitor(d time.Duration) error {
	if runtime.GOMAXPROCS(0) < 2 || own.Load() != 0 {
		return nil
	}
	// No thread has changed its slack yet: the caller's is the process's.
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return os.NewSyscallError("prctl PR_GET_TIMERSLACK", err)
	}
	tid, err := monitorThread()
	if err != nil {
		return err
	}
	// The per-thread file is under the thread's id, not under task/. Once
	// it is open, the thread still being ours proves it is the one the
	// file is of: the id cannot have gone to another process and come
	// back.
	path := "/proc/" + tid + "/timerslack_ns"
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/task/"+tid, &st); err != nil {
		return fmt.Errorf("relax monitor thread %s: gone: %w", tid, err)
	}
	if _, err := unix.Write(fd, []byte(strconv.FormatInt(d.Nanoseconds(), 10))); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	own.Store(int64(cur))
	return nil
}

// monitorThread finds the monitor among this process's threads: the first
// thread the runtime starts (runtime.main, before any package's init
// runs), so the first id handed out after the process's own. That is the
// lowest id above the pid, or, where ids wrapped around before it was
// handed out, the lowest of all. Ids as /proc numbers them: the pid
// namespace it was mounted in may not be this process's.
func monitorThread() (string, error) {
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return "", err
	}
	pid, err := strconv.Atoi(self)
	if err != nil {
		return "", fmt.Errorf("find monitor thread: /proc/self is %q", self)
	}
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: "/proc/self/task", Err: err}
	}
	defer unix.Close(fd)
	above, below := 0, 0
	var buf [4096]byte
	for {
		n, err := unix.Getdents(fd, buf[:])
		if err != nil {
			return "", &os.PathError{Op: "getdents", Path: "/proc/self/task", Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			tid, err := strconv.Atoi(name)
			switch {
			case err != nil || tid == pid:
			case tid > pid && (above == 0 || tid < above):
				above = tid
			case tid < pid && (below == 0 || tid < below):
				below = tid
			}
		}
	}
	if above == 0 {
		above = below
	}
	if above == 0 {
		return "", errors.New("find monitor thread in /proc/self/task: only the main thread")
	}
	return strconv.Itoa(above), nil
}

// Spawn calls start, which starts processes from the calling thread
// (os/exec and syscall.ForkExec fork there), on a thread set back to the
// process's own timer slack. Only for the start: the thread is the
// goroutine's until start returns, and each wake-up of a goroutine locked
// to its thread is a hand-off between threads.
func Spawn(start func() error) error {
	slack := own.Load()
	if slack == 0 {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The thread keeps it: only the monitor needs the coarse one.
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_SET_TIMERSLACK", err)
	}
	return start()
}
