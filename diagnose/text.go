package diagnose

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for a terminal: the verdict, then one short
// paragraph per finding, worst first.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	if len(r.Findings) == 0 {
		b.WriteString("no anomalies found\n")
	}
	for _, f := range r.Findings {
		who := f.Side
		if f.Level == Info {
			who = "info"
		}
		fmt.Fprintf(&b, "- %s on the %s leg (%s), %s: %s\n    at %.1f–%.1f s (%s–%s UTC), count %d\n", f.Class, f.Leg, who, f.Stream,
			f.Evidence, f.FromS, f.ToS, f.From.UTC().Format("15:04:05.000"), f.To.UTC().Format("15:04:05.000"), f.Count)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
