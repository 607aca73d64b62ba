// Package nsenter is namespace entry for hako and for any Go program: the
// Request (namespaces to create among mnt, uts, ipc, net, pid, user,
// cgroup and time; namespaces to join by path or all of a pid's; uid/gid
// maps, written by the parent or by newuidmap/newgidmap; setgroups; time
// offsets; oom_score_adj), its wire format, and Start (or Launch and
// Enter), which run a command through the C pre-init stage in package
// nsenter/preinit and return the pid of the process that ends up inside.
//
// The stage runs before the Go runtime starts any thread: joining a user
// or mount namespace needs setns(2) in a single-threaded process, and a
// new pid or time namespace is entered only by children. Errors of the
// stage come back as Go errors wrapping their errno.
//
// The binary that Start runs must import hako.dev/nsenter/preinit. See
// namespaces(7), setns(2), unshare(2), clone(2), user_namespaces(7).
package nsenter
