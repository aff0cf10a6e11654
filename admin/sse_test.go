package admin

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestReadSSE(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"one event", "data: {\"a\":1}\n\n", []string{`{"a":1}`}},
		{"comments and other fields ignored", ": keepalive\n\nevent: x\nid: 3\ndata: hi\n\n", []string{"hi"}},
		{"multi-line data joined", "data: a\ndata: b\n\n", []string{"a\nb"}},
		{"no space after the colon", "data:x\n\n", []string{"x"}},
		{"CRLF lines", "data: x\r\n\r\n", []string{"x"}},
		{"unterminated last event dropped", "data: a\n\ndata: torn", []string{"a"}},
		{"empty data", "data:\n\n", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := ReadSSE(strings.NewReader(tc.in), func(d []byte) { got = append(got, string(d)) })
			if err != io.ErrUnexpectedEOF {
				t.Errorf("err %v, want io.ErrUnexpectedEOF at the end of the stream", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzReadSSE: any line sent as "data: line" comes back unchanged.
func FuzzReadSSE(f *testing.F) {
	for _, s := range []string{"{}", "", "data: x", ":", "a\rb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\n") || len(line) > 64<<10 {
			return
		}
		var got []string
		_ = ReadSSE(strings.NewReader("data: "+line+"\n\n"), func(d []byte) { got = append(got, string(d)) })
		if strings.HasSuffix(line, "\r") {
			return // taken for a CRLF line end
		}
		if len(got) != 1 || got[0] != line {
			t.Fatalf("sent %q, got %q", line, got)
		}
	})
}
