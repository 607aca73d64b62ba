// Package seccomp turns an OCI linux.seccomp profile into a BPF filter
// through libseccomp (libseccomp-golang) and loads it: default action and
// errno, architectures, flags (LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV; TSYNC
// always), rules by syscall name with argument conditions (every operator,
// several per rule; several on one argument mean any of them, as Docker's
// profile uses them) and errnoRet. Names this libseccomp does not know are
// skipped and reported. See seccomp(2) and seccomp_unotify(2).
//
// Load it as late as possible, so that the caller's own setup is not
// filtered: right before execve(2) when no_new_privs is set, otherwise
// while the caller still has CAP_SYS_ADMIN.
//
// A syscall numbered above every one the profile names answers ENOSYS
// (when the default denies), so that libc falls back to an older call as on
// an older kernel: the program loaded is libseccomp's behind a short prefix,
// with seccomp(2) directly.
//
// A profile with SCMP_ACT_NOTIFY rules gets a listener: Load returns its
// descriptor, and SendListener hands it, with the container's state, to
// the profile's listenerPath (seccomp_unotify(2)).
//
// Built without cgo, Compile reports that libseccomp is missing.
package seccomp
