// Package seccomp will turn an OCI linux.seccomp profile into a BPF filter
// (through libseccomp) and load it as the last step before a container's
// program is executed, and hand a SCMP_ACT_NOTIFY listener's fd to its
// listenerPath. See seccomp(2) and seccomp_unotify(2).
//
// Today it holds no code, and hako refuses a config that has a
// linux.seccomp section rather than run it unfiltered.
package seccomp
