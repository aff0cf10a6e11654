//go:build !unix

package sysinfo

import "time"

// RaiseFDLimit is a no-op where RLIMIT_NOFILE does not exist.
func RaiseFDLimit() (soft, hard uint64, err error) { return 0, 0, nil }

// FDLimit is unknown (0) on this platform.
func FDLimit() uint64 { return 0 }

// OpenFDs is unknown (-1) on this platform.
func OpenFDs() int { return -1 }

// ProcessCPU is unknown (0) on this platform.
func ProcessCPU() time.Duration { return 0 }
