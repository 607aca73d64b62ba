package container

import (
	"os"

	"golang.org/x/sys/unix"
)

// lock serializes the commands that change a container (start, delete,
// pause, resume): an exclusive flock(2) on its state directory, held
// until unlock. Concurrent `hako start` of one container so starts it
// once; the others then see it running.
func (c *Container) lock() (unlock func(), err error) {
	fd, err := unix.Open(c.dir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, ErrNotExist
		}
		return nil, &os.PathError{Op: "open", Path: c.dir(), Err: err}
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "flock", Path: c.dir(), Err: err}
	}
	return func() { unix.Close(fd) }, nil
}

// reload rereads state.json after the lock is taken: another command may
// have changed it meanwhile.
func (c *Container) reload() error {
	fresh, err := Load(c.root, c.rec.ID)
	if err != nil {
		return err
	}
	c.rec = fresh.rec
	return nil
}

// locked runs op holding the container's lock, on fresh state.
func (c *Container) locked(op func() error) error {
	unlock, err := c.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.reload(); err != nil {
		return err
	}
	return op()
}
