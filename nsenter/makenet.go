package nsenter

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// MakeNet makes a new network namespace and returns it open, for a
// process to Join later by the file's path in /proc (/proc/PID/fd/N).
// Creating one is most of what a container's namespaces cost (~0.45 ms
// of unshare here, where every other kind together takes ~0.05): made
// ahead, on another core, while the process that will join it is being
// started, it is off that process's path. The namespace belongs to the
// caller's user namespace, so it is only for a process that stays in it
// (no new or joined user namespace).
//
// A thread of the caller's makes it, locked to a goroutine of its own,
// and goes back to its namespace after (setns), as every other thread
// stays in it.
func MakeNet() (*os.File, error) {
	type made struct {
		f   *os.File
		err error
	}
	ch := make(chan made, 1)
	go func() {
		runtime.LockOSThread()
		old, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- made{err: &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}}
			return
		}
		defer unix.Close(old)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- made{err: os.NewSyscallError("unshare CLONE_NEWNET", err)}
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		// Back where it was, or never unlocked: Go then ends the thread
		// with this goroutine (the main thread, it parks for good).
		if unix.Setns(old, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		if err != nil {
			ch <- made{err: &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}}
			return
		}
		ch <- made{f: os.NewFile(uintptr(fd), "net namespace")}
	}()
	m := <-ch
	return m.f, m.err
}
