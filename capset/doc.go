// Package capset sets the privileges a process keeps when it starts a
// container's program: its five capability sets (capabilities(7)) and its
// credentials (uid, gid, supplementary groups; credentials(7)).
//
// Capabilities and credentials are per thread in Linux: capset(2) and the
// raw setresuid(2) family change only the calling thread. Callers lock the
// goroutine to its thread (runtime.LockOSThread), call Apply, and execve(2)
// from that same thread, which is what the new program inherits.
//
// When not to use it: to drop privileges of a long-running multi-threaded Go
// program in place; other threads keep theirs.
package capset
