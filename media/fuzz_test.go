package media

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzOpen: arbitrary files never panic and never yield samples without a
// positive duration, which would stall or burst the pacing.
func FuzzOpen(f *testing.F) {
	f.Add(vp8File([]byte{0x10}, []byte{0x11}))
	f.Add(oggFile(1, [][]byte{opusHead(2), opusTags(), {0xfc, 1}}))
	f.Add(annexB([]byte{0x67, 0x42}, []byte{0x65, 0x88}, []byte{0x41, 0x9a}))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := OpenReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for range 10000 {
			smp, err := s.Next()
			if err != nil {
				return
			}
			if smp.Duration <= 0 {
				t.Fatalf("sample with duration %v", smp.Duration)
			}
		}
	})
}

// FuzzOgg checks the Ogg Opus reader (seeds in testdata/fuzz/FuzzOgg):
// no panics, every packet a decodable Opus duration, packets bounded by the
// input, and tolerant mode reads exactly what strict mode reads whenever
// strict mode accepts the file.
func FuzzOgg(f *testing.F) {
	f.Add(oggFile(1, opusStream(opusHead(2))))
	f.Add(bytes.Join(oggPages(1, opusStream(opusHead(1)), 2), nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		tolerant, terr := readOgg(b, false)
		strict, serr := readOgg(b, true)
		for _, s := range tolerant {
			if s.Duration <= 0 || s.Duration > 120e6 || len(s.Data) == 0 || len(s.Data) > len(b) {
				t.Fatalf("sample of %d bytes, %v", len(s.Data), s.Duration)
			}
		}
		if serr != nil {
			return
		}
		if terr != nil {
			t.Fatalf("strict mode accepts what tolerant mode rejects: %v", terr)
		}
		if len(strict) != len(tolerant) {
			t.Fatalf("strict %d packets, tolerant %d", len(strict), len(tolerant))
		}
		for i := range strict {
			if !bytes.Equal(strict[i].Data, tolerant[i].Data) || strict[i].Duration != tolerant[i].Duration {
				t.Fatalf("packet %d differs between strict and tolerant mode", i)
			}
		}
	})
}

func readOgg(b []byte, strict bool) ([]Sample, error) {
	s, err := newOgg(bytes.NewReader(b), nil, strict)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for {
		smp, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, smp)
	}
}
