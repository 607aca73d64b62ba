// Package container is the OCI container lifecycle built from hako's
// modules: Create builds a container and leaves its init process waiting,
// Start releases it, State, Kill and Delete act on it later from any
// process, and Run does all of it in the foreground.
//
// A container lives as a directory under a root (by default /run/hako):
//
//	/run/hako/<id>/state.json  what Load needs: init pid and start time, bundle, cgroup
//	/run/hako/<id>/exec.fifo   present while the container is "created"
//
// The init process is this same binary re-executed once (see Init), which
// sets the container up from inside its new namespaces and then execve(2)s
// the user's program, so the program is the container's pid 1.
//
// When not to use it: to manage containers started by another runtime;
// their state directories have another format.
package container
