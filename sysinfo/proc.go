package sysinfo

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// RSS returns the process's resident set size in bytes from
// /proc/self/statm, or 0 where /proc does not exist.
func RSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// CPUTicks is the machine's cumulative CPU time from /proc/stat, in clock
// ticks: the busy share between two readings is the machine's CPU use.
type CPUTicks struct{ Busy, Total uint64 }

// MachineCPU reads the aggregate "cpu" line of /proc/stat; zero where
// /proc does not exist.
func MachineCPU() CPUTicks {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return CPUTicks{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return CPUTicks{}
	}
	fields := bytes.Fields(sc.Bytes())
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return CPUTicks{}
	}
	var t CPUTicks
	for i, v := range fields[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			continue
		}
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// guest time is already counted in user/nice.
		if i >= 8 {
			break
		}
		t.Total += n
		if i != 3 && i != 4 { // idle, iowait
			t.Busy += n
		}
	}
	return t
}

// Percent is the busy share of all cores between an earlier reading and t.
func (t CPUTicks) Percent(earlier CPUTicks) float64 {
	if t.Total <= earlier.Total || t.Busy < earlier.Busy {
		return 0
	}
	return float64(t.Busy-earlier.Busy) / float64(t.Total-earlier.Total) * 100
}
