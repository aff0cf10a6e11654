//go:build !(linux || darwin || freebsd)

package dump

// freeBytes is unknown on this platform.
func freeBytes(string) uint64 { return 0 }
