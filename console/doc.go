// Package console moves a container's terminal between processes: Send
// hands a pty master to a --console-socket listener over SCM_RIGHTS
// (unix(7)), and Attach connects a pty master to the caller's own terminal
// for a foreground container (raw mode, window size, relay of bytes both
// ways), as `hako run` does with a config that asks for a terminal.
//
// Creating the pty itself is containerd/console's NewPty, called inside
// the container so that the slave lives in the container's devpts.
//
// When not to use it: for a pty that only this process uses; the
// containerd/console package alone is simpler.
package console
