package cgctl

import (
	"os"
	"path/filepath"
	"strconv"

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

// fileWriter writes values to control files, one write(2) each (the
// kernel takes a control file's value whole from one), and keeps the last
// file open for the next value: the rules of v1's devices controller go
// one by one to devices.allow (a config's default devices are a dozen),
// and each open walks the path.
type fileWriter struct {
	path string
	fd   int
}

func (w *fileWriter) write(dir, file, value string) error {
	p := filepath.Join(dir, file)
	if p != w.path {
		if err := w.close(); err != nil {
			return err
		}
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0)
		if err != nil {
			return &os.PathError{Op: "open", Path: p, Err: err}
		}
		w.path, w.fd = p, fd
	}
	if _, err := unix.Write(w.fd, []byte(value)); err != nil {
		// The kernel's refusal (EINVAL, EBUSY, ...) is the useful part;
		// say what was written.
		return &os.PathError{Op: "write " + strconv.Quote(value) + " to", Path: p, Err: err}
	}
	return nil
}

// close closes the file kept open, if any.
func (w *fileWriter) close() error {
	if w.path == "" {
		return nil
	}
	p := w.path
	w.path = ""
	if err := unix.Close(w.fd); err != nil {
		return &os.PathError{Op: "close", Path: p, Err: err}
	}
	return nil
}
