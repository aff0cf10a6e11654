//go:build unix

package sysinfo

import (
	"os"
	"testing"
)

func TestRaiseAndCount(t *testing.T) {
	soft, hard, err := RaiseFDLimit()
	if err != nil {
		t.Fatal(err)
	}
	if soft != hard && hard < 24576 {
		t.Fatalf("soft %d not raised to hard %d", soft, hard)
	}
	if FDLimit() != soft {
		t.Fatalf("FDLimit %d, want %d", FDLimit(), soft)
	}
	before := OpenFDs()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if after := OpenFDs(); after != before+1 {
		t.Fatalf("open fds %d after opening one, was %d", after, before)
	}
}

func TestRSSAndMachineCPU(t *testing.T) {
	if RSS() == 0 {
		t.Error("RSS = 0; want the process's resident size")
	}
	a := MachineCPU()
	if a.Total == 0 || a.Busy > a.Total {
		t.Fatalf("MachineCPU = %+v", a)
	}
	if p := a.Percent(CPUTicks{}); p <= 0 || p > 100 {
		t.Errorf("Percent since boot = %v, want (0, 100]", p)
	}
	if p := a.Percent(a); p != 0 {
		t.Errorf("Percent over no interval = %v, want 0", p)
	}
}
