package loadtest

import (
	"encoding/json"
	"strings"
	"testing"
)

func seq(from, to float64) []float64 {
	var v []float64
	for x := from; x <= to; x++ {
		v = append(v, x)
	}
	return v
}

func TestNewDist(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		want   Dist
	}{
		{"empty", nil, Dist{}},
		{"one", []float64{7}, Dist{N: 1, P50: 7, P90: 7, P95: 7, P99: 7, Max: 7}},
		{"two", []float64{2, 1}, Dist{N: 2, P50: 1, P90: 2, P95: 2, P99: 2, Max: 2}},
		{"ten", seq(1, 10), Dist{N: 10, P50: 5, P90: 9, P95: 10, P99: 10, Max: 10}},
		{"hundred", seq(1, 100), Dist{N: 100, P50: 50, P90: 90, P95: 95, P99: 99, Max: 100}},
		{"thousand with one outlier", append(make([]float64, 999), 5000), Dist{N: 1000, Max: 5000}},
		{"unsorted", []float64{9, 1, 5, 3, 7}, Dist{N: 5, P50: 5, P90: 9, P95: 9, P99: 9, Max: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newDist(tt.values); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReportText(t *testing.T) {
	r := &Report{
		URL: "http://127.0.0.1:8080/api/whep/demo", Viewers: 10, Burst: true, ElapsedS: 12.5,
		OK: 7, Failed: 3, Failures: map[string]int{"HTTP 503: server full: viewer limit 7 reached": 2, "no media within 10s": 1},
		PostMS: Dist{N: 10, P50: 12, P90: 30, P95: 31, P99: 40, Max: 40},
		Totals: Totals{FramesComplete: 1234, Lost: 3, Expected: 10000, LossPct: 0.03},
	}
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"10 viewers, burst", "ok 7  failed 3 (30.0%)", "POST ms", "12", "1234 complete",
		"lost 3 of 10000", "2  HTTP 503: server full",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "HTTP 503") > strings.Index(out, "no media") {
		t.Errorf("failures not sorted by count:\n%s", out)
	}

	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"post_ms":{"n":10,"p50":12,`, `"failures":{`, `"frames_complete":1234`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
}
