package rootfs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// copyTree copies the contents of directory src into directory dst (the
// "tmpcopyup" option: a tmpfs over an image directory starts with what the
// image had there). Both are open directories; every entry is reached
// from its parent's fd with O_NOFOLLOW, so a symlink in the image is
// copied as a symlink and never followed. Owners, modes and modification
// times are kept.
func copyTree(src, dst *os.File) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return &os.PathError{Op: "readdir", Path: src.Name(), Err: err}
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(src, dst *os.File, name string) error {
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	path := filepath.Join(src.Name(), name)
	fail := func(op string, err error) error { return &os.PathError{Op: "tmpcopyup: " + op, Path: path, Err: err} }
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail("stat", err)
	}
	perm := st.Mode & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return fail("mkdir", err)
		}
		if err := within(src, dst, name, copyTree); err != nil {
			return err
		}
	case unix.S_IFREG:
		if err := copyFile(sfd, dfd, name, path); err != nil {
			return err
		}
	case unix.S_IFLNK:
		link, err := readlinkAt(sfd, name)
		if err != nil {
			return fail("readlink", err)
		}
		if err := unix.Symlinkat(link, dfd, name); err != nil {
			return fail("symlink", err)
		}
	default: // devices, fifos, sockets
		if err := unix.Mknodat(dfd, name, st.Mode&unix.S_IFMT|0o600, int(st.Rdev)); err != nil {
			return fail("mknod", err)
		}
	}
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail("chown", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		// After chown, which clears set-id bits.
		if err := unix.Fchmodat(dfd, name, perm, 0); err != nil {
			return fail("chmod", err)
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(dfd, name, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fail("utimes", err)
	}
	return nil
}

// within runs f on the subdirectory name of both src and dst.
func within(src, dst *os.File, name string, f func(src, dst *os.File) error) error {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	s, err := unix.Openat(int(src.Fd()), name, flags, 0)
	if err != nil {
		return &os.PathError{Op: "tmpcopyup: open", Path: filepath.Join(src.Name(), name), Err: err}
	}
	sf := os.NewFile(uintptr(s), filepath.Join(src.Name(), name))
	defer sf.Close()
	d, err := unix.Openat(int(dst.Fd()), name, flags, 0)
	if err != nil {
		return &os.PathError{Op: "tmpcopyup: open", Path: filepath.Join(dst.Name(), name), Err: err}
	}
	df := os.NewFile(uintptr(d), filepath.Join(dst.Name(), name))
	defer df.Close()
	if err := copyXattrs(sf, df); err != nil {
		return &os.PathError{Op: "tmpcopyup: xattrs", Path: sf.Name(), Err: err}
	}
	return f(sf, df)
}

// copyXattrs copies the extended attributes of in to out: file
// capabilities (security.capability) and labels travel with the file, as
// cp -a keeps them. An attribute the tmpfs or the kernel refuses (a
// trusted.* one without the privilege) is left out.
func copyXattrs(in, out *os.File) error {
	buf := make([]byte, 4096)
	n, err := unix.Flistxattr(int(in.Fd()), buf)
	if errors.Is(err, unix.ERANGE) {
		if n, err = unix.Flistxattr(int(in.Fd()), nil); err == nil {
			buf = make([]byte, n)
			n, err = unix.Flistxattr(int(in.Fd()), buf)
		}
	}
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		sz, err := unix.Fgetxattr(int(in.Fd()), name, nil)
		if err != nil {
			continue
		}
		val := make([]byte, sz)
		if sz, err = unix.Fgetxattr(int(in.Fd()), name, val); err != nil {
			continue
		}
		if err := unix.Fsetxattr(int(out.Fd()), name, val[:sz], 0); err != nil &&
			!errors.Is(err, unix.EPERM) && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EOPNOTSUPP) {
			return err
		}
	}
	return nil
}

func copyFile(sfd, dfd int, name, path string) error {
	// O_NONBLOCK: what was a regular file at the stat may be a fifo now
	// (a rootfs another container shares), which must not block us.
	s, err := unix.Openat(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "tmpcopyup: open", Path: path, Err: err}
	}
	in := os.NewFile(uintptr(s), path)
	defer in.Close()
	if st, err := in.Stat(); err != nil || !st.Mode().IsRegular() {
		return &os.PathError{Op: "tmpcopyup: open", Path: path, Err: errors.New("not a regular file any more")}
	}
	d, err := unix.Openat(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "tmpcopyup: create", Path: path, Err: err}
	}
	out := os.NewFile(uintptr(d), path)
	_, err = io.Copy(out, in)
	if err == nil {
		err = copyXattrs(in, out)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return &os.PathError{Op: "tmpcopyup: copy", Path: path, Err: err}
	}
	return nil
}
