package cgctl

import (
	"os"

	"golang.org/x/sys/unix"
)

// Control files are read and written through plain descriptors, not
// os.File: on Linux os.File puts every file it opens into the runtime's
// epoll set, and kernfs (cgroupfs, like procfs) accepts it, so each open
// wakes the runtime's poller thread for an event nothing waits for. A
// create wrote ~15 control files and read as many: dozens of needless
// thread wake-ups and context switches per container.

// readFile is os.ReadFile for small kernel files.
func readFile(p string) ([]byte, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	b := make([]byte, 0, 512)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: p, Err: err}
		}
		if n == 0 {
			return b, nil
		}
		b = b[:len(b)+n]
	}
}

// writeFileAt writes value to the file p in one write(2), as the kernel
// takes a control file's value.
func writeFileAt(p, value string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	_, werr := unix.Write(fd, []byte(value))
	cerr := unix.Close(fd)
	if werr != nil {
		return werr
	}
	if cerr != nil {
		return &os.PathError{Op: "close", Path: p, Err: cerr}
	}
	return nil
}
