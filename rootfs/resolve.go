package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// resolveFlags keep every lookup inside the root: ".." stops at it,
// absolute symlinks are taken relative to it, and /proc magic links (which
// could point anywhere) are refused.
const resolveFlags = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openIn opens path (taken as relative to root, whatever its leading "/")
// with O_PATH, resolving it inside root.
func openIn(root *os.File, path string, flags int) (*os.File, error) {
	rel := strings.TrimPrefix(filepath.Clean("/"+path), "/")
	if rel == "" {
		rel = "."
	}
	fd, err := openat2(int(root.Fd()), rel, &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: resolveFlags,
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: filepath.Join(root.Name(), rel), Err: err}
	}
	return os.NewFile(uintptr(fd), filepath.Join(root.Name(), rel)), nil
}

// OpenIn opens path inside root as the mounts' destinations are resolved
// (symlinks and ".." stay inside it, magic links are refused, openat2's
// EAGAIN is retried), for a caller that looks at a container's files from
// outside: hako's exec finds the program and HOME this way.
func OpenIn(root *os.File, path string, flags int) (*os.File, error) {
	return openIn(root, path, flags)
}

// openat2 retries openat2(2)'s EAGAIN: with RESOLVE_IN_ROOT the kernel
// gives up on a lookup through ".." when any rename or mount happened
// meanwhile, anywhere, and asks the caller to try again.
func openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirfd, path, how)
		if err != unix.EAGAIN || i == 100 {
			return fd, err
		}
	}
}

// maxLinks bounds symlink expansion as the kernel does (ELOOP after 40).
const maxLinks = 40

// mkdirIn makes path and its missing parents inside root and returns it
// opened with O_PATH. It walks one component at a time from fds it holds:
// each step is an openat(2) of a single name with O_NOFOLLOW relative to
// the directory already reached, a symlink is read and its target walked
// from the root (absolute) or from where it stands (relative), and ".."
// never climbs above the root. A link that dangles gets its target made
// inside the root, never on the host.
func mkdirIn(root *os.File, path string, mode uint32) (*os.File, error) {
	if f, err := openIn(root, path, unix.O_PATH|unix.O_DIRECTORY); err == nil {
		return f, nil
	}
	fail := func(op, at string, err error) (*os.File, error) {
		return nil, &os.PathError{Op: op, Path: filepath.Join(root.Name(), at), Err: err}
	}
	todo := splitPath(path)
	at := "/" // symlink-free path of cur within the root
	cur, err := unix.Dup(int(root.Fd()))
	if err != nil {
		return fail("dup", at, err)
	}
	defer func() { unix.Close(cur) }()
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if name == ".." {
			at = filepath.Dir(at)
			up, err := openat2(int(root.Fd()), "."+at, &unix.OpenHow{
				Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolveFlags})
			if err != nil {
				return fail("open", at, err)
			}
			unix.Close(cur)
			cur = up
			continue
		}
		next := filepath.Join(at, name)
		fd, err := unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(cur, name, mode); err != nil && !errors.Is(err, unix.EEXIST) {
				return fail("mkdir", next, err)
			}
			fd, err = unix.Openat(cur, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		if err != nil {
			return fail("open", next, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fail("stat", next, err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			unix.Close(cur)
			cur, at = fd, next
		case unix.S_IFLNK:
			unix.Close(fd)
			if links++; links > maxLinks {
				return fail("resolve", next, unix.ELOOP)
			}
			target, err := readlinkAt(cur, name)
			if err != nil {
				return fail("readlink", next, err)
			}
			if filepath.IsAbs(target) {
				up, err := unix.Dup(int(root.Fd()))
				if err != nil {
					return fail("dup", "/", err)
				}
				unix.Close(cur)
				cur, at = up, "/"
			}
			todo = append(splitPath(target), todo...)
		default:
			unix.Close(fd)
			return fail("mkdir", next, unix.ENOTDIR)
		}
	}
	return openIn(root, at, unix.O_PATH|unix.O_DIRECTORY)
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func readlinkAt(dir int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dir, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// createFileIn makes an empty regular file at path inside root (for a bind
// mount of a file or device) unless something is already there, and
// returns it opened with O_PATH. A dangling symlink in its place gets its
// target made, inside the root.
func createFileIn(root *os.File, path string, mode uint32) (*os.File, error) {
	for links := 0; ; links++ {
		if f, err := openIn(root, path, unix.O_PATH); err == nil {
			return f, nil
		}
		clean := filepath.Clean("/" + path)
		dir, err := mkdirIn(root, filepath.Dir(clean), 0o755)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(clean)
		// O_NOFOLLOW|O_EXCL: nothing that stands there is written through.
		fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, mode)
		if err == nil {
			unix.Close(fd)
			dir.Close()
			return openIn(root, path, unix.O_PATH)
		}
		if !errors.Is(err, unix.EEXIST) || links >= maxLinks {
			dir.Close()
			return nil, &os.PathError{Op: "create", Path: filepath.Join(root.Name(), clean), Err: err}
		}
		target, lerr := readlinkAt(int(dir.Fd()), name)
		parent := strings.TrimPrefix(dir.Name(), root.Name())
		dir.Close()
		if lerr != nil {
			return nil, &os.PathError{Op: "create", Path: filepath.Join(root.Name(), clean), Err: err}
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join("/", parent, target)
		}
		path = target
	}
}

// procPath is how mount(2) and friends reach the object an O_PATH fd
// refers to: the magic link is followed to that very dentry, whatever
// happened to the path since.
func procPath(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}
