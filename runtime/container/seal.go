package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"hako.dev/nsenter"
	"hako.dev/runtime/timerslack"
)

// The binary a container's init (or exec) runs as is hako's own, inside
// the container until it executes the program. CVE-2019-5736: a process in
// the container that gets hold of /proc/<pid>/exe could reopen it for
// writing once hako is done with it, and replace the host's binary. The
// init is non-dumpable (no other process may open its /proc files), and
// it runs the binary through a private, read-only overlayfs mount (runc
// 1.2's idea): /proc/<pid>/exe names a file of that mount, where no write
// can happen, and nothing is copied. Where overlayfs cannot be mounted (a
// user namespace, an old kernel), a sealed memfd copy is the fallback.

// launchSealed is nsenter.Launch of cmd (whose Path is /proc/self/exe)
// with the binary sealed: the child executes it through the sealed
// descriptor. The caller closes the returned seal (sealedExe.closeLater)
// once the child's execve is over; best after the processes running the
// binary have let go of it (see closeLater), where that is known.
//
// It also returns the sealed file's identity (device, inode), by which the
// child can later tell its own binary from anything else a path names.
func launchSealed(cmd *exec.Cmd, stateDir string) (*nsenter.Launched, *sealedExe, [2]uint64, error) {
	defer func() {
		for _, f := range cmd.ExtraFiles {
			if f.Name() == preservedName {
				f.Close() // the child has its copy
			}
		}
	}()
	files := 3 + len(cmd.ExtraFiles) + 1 // and nsenter's socket
	exe, err := sealSelf(2*files+8, filepath.Join(stateDir, emptyDir))
	if err != nil {
		return nil, nil, [2]uint64{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(exe.f.Fd()), &st); err != nil {
		exe.closeLater()
		return nil, nil, [2]uint64{}, os.NewSyscallError("fstat sealed binary", err)
	}
	cmd.Path = exe.path()
	var l *nsenter.Launched
	err = timerslack.Spawn(func() (err error) {
		l, err = withoutHugePages(func() (*nsenter.Launched, error) { return nsenter.Launch(cmd) })
		return err
	})
	if err != nil {
		exe.closeLater()
		return nil, nil, [2]uint64{}, err
	}
	return l, exe, [2]uint64{st.Dev, st.Ino}, nil
}

// sealedExe is hako's binary, opened so that nothing can write through it.
type sealedExe struct {
	f       *os.File
	overlay bool // through an overlay, not a memfd copy
}

// sealSelf opens /proc/self/exe's binary through a detached read-only
// overlay (or copies it into a sealed memfd), at a descriptor number
// above min: the child's descriptor shuffling (up to twice its number of
// files) must not land on it before its execve.
func sealSelf(min int, empty string) (*sealedExe, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	fd, err := overlayExe(exe, empty)
	overlay := err == nil
	if err != nil {
		if fd, err = memfdExe(exe); err != nil {
			return nil, fmt.Errorf("seal %s: %w", exe, err)
		}
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, min)
	unix.Close(fd)
	if err != nil {
		return nil, os.NewSyscallError("fcntl F_DUPFD_CLOEXEC", err)
	}
	return &sealedExe{f: os.NewFile(uintptr(high), exe), overlay: overlay}, nil
}

// path is what a child executes: the magic link resolves, in the child
// before its execve, to the sealed file.
func (s *sealedExe) path() string { return "/proc/self/fd/" + strconv.Itoa(int(s.f.Fd())) }

// The end of the last reference to the overlay (its superblock drops
// its private mounts of the layers) waits for an expedited RCU grace
// period in the thread that lets go (kern_unmount_array; 0.1-0.2 ms
// here). It fell to whichever process let go of the file last: the
// container's init at its program's execve, on the way to the program;
// Run now keeps the file until the program has ended and closes it on
// another goroutine. The file keeps the overlay alive, its mount
// dissolved (overlayOpen).

// closeLater closes the file on another goroutine. Where the processes
// that ran the binary have let go of it already (Run, after the init's
// end), this process holds it last and the overlay's teardown happens on
// that goroutine.
func (s *sealedExe) closeLater() {
	if f := s.f; f != nil {
		s.f = nil
		go f.Close()
	}
}

// emptyDir, in the container's state directory (and gone with it), is
// the empty directory that serves as the sealing overlay's second layer
// (overlayfs needs two without an upper one). Nothing is written there.
const emptyDir = "seal"

// overlayExe opens the binary through an overlayfs whose layers are its
// directory and the empty directory empty (made if missing; an empty
// tmpfs where that fails), the mount detached: nothing appears in any
// mount table. One mount, not two: tearing a detached mount down waits for
// an RCU grace period, which older kernels make long.
func overlayExe(exe, empty string) (int, error) {
	dir, name := filepath.Split(exe)
	if strings.ContainsAny(dir, ":,\\") {
		return -1, errors.New("directory name unusable as an overlayfs layer")
	}
	fd, err := -1, errors.New("no empty directory")
	if !strings.ContainsAny(empty, ":,\\") {
		if merr := os.Mkdir(empty, 0o700); merr == nil || errors.Is(merr, os.ErrExist) {
			fd, err = overlayOpen(dir, empty, name)
		}
	}
	if err != nil {
		// Overlapping the binary's directory (or not makeable): an empty
		// tmpfs, attached nowhere, instead.
		t, terr := detachedMount("tmpfs", nil)
		if terr != nil {
			return -1, terr
		}
		defer unix.Close(t)
		fd, err = overlayOpen(dir, "/proc/self/fd/"+strconv.Itoa(t), name)
	}
	return fd, err
}

// overlayOpen opens name through a read-only overlay of dir over second.
func overlayOpen(dir, second, name string) (int, error) {
	lower := strings.TrimSuffix(dir, "/") + ":" + second
	if dir == "/" {
		lower = "/:" + second
	}
	mnt, err := detachedMount("overlay", map[string]string{"lowerdir": lower})
	if err != nil {
		return -1, err
	}
	// Dissolved before any child executes the file, which keeps the
	// overlay alive: with the mount still attached (its descriptor open)
	// the child's execve of the file failed now and then with EACCES here
	// (kernel 6.18: 4 of 25 runs of a test that creates a container and
	// execs into it; none of 30 with it dissolved first).
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "overlay/" + name, Err: err}
	}
	return fd, nil
}

// detachedMount makes a read-only mount of fs with the new mount API and
// returns its fd, attached nowhere.
func detachedMount(fs string, opts map[string]string) (int, error) {
	fsfd, err := unix.Fsopen(fs, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("fsopen "+fs, err)
	}
	defer unix.Close(fsfd)
	for k, v := range opts {
		if err := unix.FsconfigSetString(fsfd, k, v); err != nil {
			return -1, fmt.Errorf("fsconfig %s %s=%s: %w", fs, k, v, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, os.NewSyscallError("fsconfig create "+fs, err)
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return -1, os.NewSyscallError("fsmount "+fs, err)
	}
	return mnt, nil
}

// memfdExe copies the binary into a memfd sealed against any change.
func memfdExe(exe string) (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("hako", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, os.NewSyscallError("memfd_create", err)
	}
	dst := os.NewFile(uintptr(fd), "memfd:hako")
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return -1, err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return -1, os.NewSyscallError("fcntl F_ADD_SEALS", err)
	}
	nfd, err := unix.Dup(fd) // detach from dst's finalizer
	dst.Close()
	if err != nil {
		return -1, err
	}
	return nfd, nil
}
