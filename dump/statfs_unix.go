//go:build linux || darwin || freebsd

package dump

import "syscall"

// freeBytes returns the bytes an unprivileged process may still write on
// the filesystem holding dir (f_bavail, not f_bfree: the reserved blocks
// are root's), 0 if unknown.
func freeBytes(dir string) uint64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return uint64(st.Bavail) * uint64(st.Bsize) // field types differ by OS
}
