package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bcastdev/bcast/loadtest"
)

func TestLoadtestRefusesBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"http://127.0.0.1:1/api/whep/x", "--burst", "--ramp", "5s"}, "exclude"},
		{[]string{"http://127.0.0.1:1/api/whep/x", "-n", "0"}, "viewers"},
		{[]string{"not-a-url"}, "URL"},
		{nil, "arg"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := newLoadtestCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			err := cmd.ExecuteContext(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name       string
		rep        loadtest.Report
		maxPct     float64
		wantErrHas string
	}{
		{"all ok", loadtest.Report{Viewers: 100, OK: 100}, 1, ""},
		{"at the threshold", loadtest.Report{Viewers: 100, OK: 99, Failed: 1}, 1, ""},
		{"over the threshold", loadtest.Report{Viewers: 100, OK: 98, Failed: 2}, 1, "2 of 100 viewers failed"},
		{"none allowed", loadtest.Report{Viewers: 10, OK: 9, Failed: 1}, 0, "failed to join"},
		{"no media", loadtest.Report{Viewers: 10, Aborted: 10}, 1, "no viewer received media"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := judge(&tt.rep, tt.maxPct)
			switch {
			case tt.wantErrHas == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErrHas != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErrHas)):
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErrHas)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	l := newProgressLine(&b) // not a terminal: a line every 5 s
	for s := 1; s <= 11; s++ {
		jitter := time.Duration(s%3-1) * 10 * time.Millisecond
		l.print(loadtest.Progress{Elapsed: time.Duration(s)*time.Second + jitter, Viewers: 3, Joined: 3})
	}
	l.end()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "5s  joined 3/3") || strings.Contains(b.String(), "\r") {
		t.Fatalf("progress output:\n%q", b.String())
	}
}
