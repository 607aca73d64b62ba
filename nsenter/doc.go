// Package nsenter will own namespace entry for hako and for any Go program:
// the request (namespaces to create among mnt, uts, ipc, net, pid, user,
// cgroup and time; namespaces to join by path or by pid; uid/gid maps;
// time offsets), its wire format, and Start, which launches a command
// through the pre-init stage in package nsenter/preinit.
//
// Today it holds no code: hako creates a container's namespaces with
// clone(2) flags (syscall.SysProcAttr.Cloneflags) in hako.dev/runtime, and
// refuses configs that ask to join existing namespaces. Joining a user or
// mount namespace needs setns(2) before the Go runtime starts its threads,
// which is what the pre-init stage is for. See namespaces(7), setns(2),
// unshare(2), clone(2).
package nsenter
