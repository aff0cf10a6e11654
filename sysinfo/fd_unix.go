//go:build unix

package sysinfo

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// RaiseFDLimit raises the soft RLIMIT_NOFILE to the hard limit and returns
// the limits now in force.
func RaiseFDLimit() (soft, hard uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if runtime.GOOS == "darwin" && want.Cur > 24576 {
			want.Cur = 24576 // OPEN_MAX: darwin refuses more for setrlimit
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return uint64(lim.Cur), uint64(lim.Max), fmt.Errorf("setrlimit: %w", err)
		}
		lim = want
	}
	return uint64(lim.Cur), uint64(lim.Max), nil
}

// FDLimit returns the current soft RLIMIT_NOFILE.
func FDLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return uint64(lim.Cur)
}

// OpenFDs counts the process's open file descriptors (-1 when unknown).
func OpenFDs() int {
	dir := "/proc/self/fd"
	if runtime.GOOS == "darwin" {
		dir = "/dev/fd"
	}
	f, err := os.Open(dir)
	if err != nil {
		return -1
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names) - 1 // minus the descriptor reading the directory
}

// ProcessCPU returns the CPU time (user + system) the process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
