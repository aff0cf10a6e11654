package dump

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReader feeds arbitrary files to the Reader. Seeds in
// testdata/fuzz/FuzzReader: one of our segments, classic pcap with
// Ethernet, nanosecond pcap with IPv6, a big-endian pcapng. Run with
// go test -fuzz=FuzzReader -fuzztime=20s ./dump/
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		full, err := fuzzRead(t, data)
		if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "offset") {
			t.Fatalf("error without an offset: %v", err)
		}
		// A file cut anywhere reads as the start of the whole one:
		// the same packets, and no error the whole file lacks.
		cut := len(data) / 2
		part, perr := fuzzRead(t, data[:cut])
		if perr != nil && !errors.Is(perr, io.EOF) && (err == nil || errors.Is(err, io.EOF)) {
			t.Fatalf("cut at %d: %v; whole file: %v", cut, perr, err)
		}
		if len(part) > len(full) {
			t.Fatalf("cut at %d: %d packets, whole file %d", cut, len(part), len(full))
		}
		for i := range part {
			if !bytes.Equal(part[i], full[i]) {
				t.Fatalf("cut at %d: packet %d differs", cut, i)
			}
		}
	})
}

// fuzzRead reads data to the end, checking each packet, and returns the
// payloads and the final error (nil if newReader refused the file).
func fuzzRead(t *testing.T, data []byte) ([][]byte, error) {
	r, err := newReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if r != nil {
			t.Fatal("reader and error")
		}
		return nil, nil
	}
	var out [][]byte
	for {
		p, err := r.Next()
		if err != nil {
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after %v: %v", err, again)
			}
			return out, err
		}
		// Every packet block or record takes at least 12 bytes.
		if len(out) > len(data)/12 {
			t.Fatalf("%d packets from %d bytes", len(out), len(data))
		}
		if p.Interface < 0 || p.Interface >= len(r.Interfaces()) {
			t.Fatalf("interface %d of %d", p.Interface, len(r.Interfaces()))
		}
		if !p.Src.IsValid() || !p.Dst.IsValid() || len(p.Payload) > len(data) {
			t.Fatalf("bad packet %+v", p)
		}
		if p.RTCP && (len(p.Payload) < 2 || p.Payload[1] < 192 || p.Payload[1] > 223) {
			t.Fatalf("RTCP flag on % x", p.Payload)
		}
		out = append(out, bytes.Clone(p.Payload))
	}
}
