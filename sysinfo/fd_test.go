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
