package container

import (
	"errors"
)

// Wait waits for the container's program to end and returns its exit
// status as a shell reports it: the exit code, or 128+N when killed by
// signal N. Only the process that created the container can wait.
func (c *Container) Wait() (int, error) {
	if c.proc == nil {
		return -1, errors.New("wait: container was not created by this process")
	}
	ws, err := c.proc.Wait()
	if err != nil {
		return -1, err
	}
	return shellStatus(ws), nil
}

// Pid is the container's init pid as recorded at create.
func (c *Container) Pid() int { return c.rec.Pid }
