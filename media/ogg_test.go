package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// rawPage builds one Ogg page with a valid CRC (RFC 3533 §6).
func rawPage(flags byte, serial, seq uint32, lacing, body []byte) []byte {
	h := make([]byte, oggHeaderSize, oggHeaderSize+len(lacing)+len(body))
	copy(h, oggCapture)
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], uint64(seq)*960) // granule: not used by the reader
	binary.LittleEndian.PutUint32(h[14:], serial)
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(lacing))
	page := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

// oggPages lays packets out the way a muxer does (RFC 7845 §3): the ID
// header alone on the BOS page, the comment header ending its page, audio
// packets filling pages of at most maxSegs lacing values and continuing
// across pages, EOS on the last page.
func oggPages(serial uint32, packets [][]byte, maxSegs int) [][]byte {
	var (
		pages          [][]byte
		lacing, body   []byte
		flags          byte = oggBOS
		seq            uint32
		pendingPackets bool
	)
	flush := func(last bool) {
		if last {
			flags |= oggEOS
		}
		pages = append(pages, rawPage(flags, serial, seq, lacing, body))
		seq++
		lacing, body, flags, pendingPackets = nil, nil, 0, false
	}
	for i, p := range packets {
		var vals []byte
		for n := len(p); ; n -= 255 {
			if n < 255 {
				vals = append(vals, byte(n))
				break
			}
			vals = append(vals, 255)
		}
		for j, v := range vals {
			if len(lacing) == maxSegs {
				flush(false)
				if j > 0 {
					flags = oggContinued
				}
			}
			lacing = append(lacing, v)
			body = append(body, p[j*255:j*255+int(v)]...)
			pendingPackets = true
		}
		if i <= 1 && pendingPackets {
			flush(i == len(packets)-1)
		}
	}
	if pendingPackets {
		flush(true)
	}
	return pages
}

func oggFile(serial uint32, packets [][]byte) []byte {
	return bytes.Join(oggPages(serial, packets, 255), nil)
}

// opusHead is an RFC 7845 §5.1 ID header, mapping family 0.
func opusHead(channels byte) []byte {
	return []byte("OpusHead\x01" + string(channels) + "\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
}

func opusTags() []byte { return []byte("OpusTags\x05\x00\x00\x00bcast\x00\x00\x00\x00") }

// Opus packets with TOC bytes of different configurations (RFC 6716 §3.1:
// config<<3 | stereo<<2 | frame count code) and their durations.
var opusPackets = []struct {
	name string
	data []byte
	dur  time.Duration
}{
	{"SILK NB 10 ms", []byte{0 << 3, 0xaa}, 10 * time.Millisecond},
	{"SILK NB 60 ms", []byte{3 << 3, 0xaa, 0xbb}, 60 * time.Millisecond},
	{"SILK WB 20 ms, code 1", []byte{9<<3 | 1, 0xaa, 0xbb}, 40 * time.Millisecond},
	{"Hybrid SWB 20 ms, code 2", []byte{13<<3 | 2, 1, 0xaa, 0xbb}, 40 * time.Millisecond},
	{"CELT NB 2.5 ms", []byte{16 << 3, 0xaa}, 2500 * time.Microsecond},
	{"CELT FB 20 ms stereo", []byte{31<<3 | 4, 0xaa}, 20 * time.Millisecond},
	{"CELT NB 20 ms, code 3 CBR x3", []byte{19<<3 | 3, 3, 1, 2, 3}, 60 * time.Millisecond},
	{"SILK NB 20 ms, code 3 x6", []byte{1<<3 | 3, 6, 1, 2, 3, 4, 5, 6}, 120 * time.Millisecond},
	{"CELT FB 5 ms, code 3 VBR padded x2", []byte{29<<3 | 3, 0xc2, 2, 1, 0xaa, 0xbb, 0, 0}, 10 * time.Millisecond},
	{"hybrid FB 20 ms, 600 bytes", append([]byte{15 << 3}, bytes.Repeat([]byte{0x78}, 599)...), 20 * time.Millisecond},
	{"CELT FB 20 ms, 510 bytes", append([]byte{31 << 3}, bytes.Repeat([]byte{0x55}, 509)...), 20 * time.Millisecond},
}

func opusStream(head []byte) (packets [][]byte) {
	packets = append(packets, head, opusTags())
	for _, p := range opusPackets {
		packets = append(packets, p.data)
	}
	return packets
}

func TestOggOpusPackets(t *testing.T) {
	packets := opusStream(opusHead(2))
	// Small pages force packets across page boundaries (the 510-byte one
	// ends in a 0 lacing value), large ones put many packets on a page.
	for _, maxSegs := range []int{1, 2, 3, 5, 255} {
		file := bytes.Join(oggPages(0x1234, packets, maxSegs), nil)
		for _, strict := range []bool{false, true} {
			s, err := newOgg(bytes.NewReader(file), nil, strict)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, s)
			if len(got) != len(opusPackets) {
				t.Fatalf("maxSegs %d: %d packets, want %d", maxSegs, len(got), len(opusPackets))
			}
			for i, want := range opusPackets {
				if !bytes.Equal(got[i].Data, want.data) || got[i].Duration != want.dur {
					t.Errorf("maxSegs %d, %s: %d bytes %v, want %d bytes %v",
						maxSegs, want.name, len(got[i].Data), got[i].Duration, len(want.data), want.dur)
				}
			}
		}
	}
}

func TestOggOpusInvalidPacketsSkipped(t *testing.T) {
	good := []byte{31 << 3, 0xaa}
	packets := [][]byte{opusHead(2), opusTags(),
		good,
		{},                                 // empty (RFC 6716 R1)
		{1<<3 | 3, 0},                      // code 3 with zero frames
		{1<<3 | 3, 7, 1, 2, 3, 4, 5, 6, 7}, // 140 ms > 120 ms (R5)
		{9<<3 | 1, 0xaa},                   // code 1 with an odd length (R3)
		good,
	}
	file := oggFile(1, packets)
	s, err := newOgg(bytes.NewReader(file), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 2 {
		t.Fatalf("%d packets, want the 2 valid ones", n)
	}
	s, err = newOgg(bytes.NewReader(file), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err == nil {
		t.Fatal("strict mode accepted an empty Opus packet")
	}
}

func TestOggOpusHead(t *testing.T) {
	family1 := func(channels, streams byte) []byte {
		h := opusHead(channels)
		h[18] = 1
		h = append(h, streams, 0)
		for i := range channels {
			h = append(h, i)
		}
		return h
	}
	version := opusHead(2)
	version[8] = 0x10
	tests := []struct {
		name   string
		head   []byte
		errHas string
	}{
		{"mono", opusHead(1), ""},
		{"stereo", opusHead(2), ""},
		{"family 1 stereo, one stream", family1(2, 1), ""},
		{"5.1 surround", family1(6, 4), "4 streams (6 channels, mapping family 1)"},
		{"family 0 with 3 channels", opusHead(3), "want 1 or 2"},
		{"zero channels", opusHead(0), "0 channels"},
		{"major version 1", version, "version 16"},
		{"family 1 truncated", family1(2, 1)[:20], "truncated"},
		{"short", opusHead(2)[:12], "bad Opus ID header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenReader(bytes.NewReader(oggFile(1, [][]byte{tt.head, opusTags()})), "h.opus")
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.Contains(err.Error(), "h.opus") {
				t.Fatalf("err = %v, want it to name h.opus and contain %q", err, tt.errHas)
			}
		})
	}
}

// TestOggDamage covers the tolerant and strict handling of damaged files.
// Pages: 0 head, 1 tags, 2 [a b], 3 [c + start of long], 4 [end of long, d].
func TestOggDamage(t *testing.T) {
	a := []byte{31 << 3, 'a'}
	b := []byte{31 << 3, 'b'}
	c := []byte{31 << 3, 'c'}
	d := []byte{31 << 3, 'd'}
	long := append([]byte{31 << 3}, bytes.Repeat([]byte{'L'}, 299)...) // 255 + 45
	pages := [][]byte{
		rawPage(oggBOS, 9, 0, []byte{19}, opusHead(2)),
		rawPage(0, 9, 1, []byte{byte(len(opusTags()))}, opusTags()),
		rawPage(0, 9, 2, []byte{2, 2}, append(append([]byte{}, a...), b...)),
		rawPage(0, 9, 3, []byte{2, 255}, append(append([]byte{}, c...), long[:255]...)),
		rawPage(oggContinued|oggEOS, 9, 4, []byte{45, 2}, append(append([]byte{}, long[255:]...), d...)),
	}
	join := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	corrupt := func(p []byte, at int) []byte {
		p = bytes.Clone(p)
		p[at] ^= 0xff
		return p
	}
	all := [][]byte{a, b, c, long, d}
	tests := []struct {
		name      string
		file      []byte
		tolerant  [][]byte // packets read in tolerant mode
		strictErr string   // "" when strict reads the same
	}{
		{"intact", join(pages...), all, ""},
		{"garbage before the first page", join([]byte("junk OggS junk"), join(pages...)), all, "lost sync"},
		{"garbage between pages", join(pages[0], pages[1], pages[2], []byte("xxOgxOggxx"), pages[3], pages[4]), all, "lost sync"},
		{"CRC mismatch drops the page", join(pages[0], pages[1], corrupt(pages[2], 30), pages[3], pages[4]), [][]byte{c, long, d}, "CRC"},
		{"lost page with a packet start", join(pages[0], pages[1], pages[2], pages[4]), [][]byte{a, b, d}, "pages lost"},
		{"lost page ending a packet", join(pages[0], pages[1], pages[2], pages[3]), [][]byte{a, b, c}, "ends inside a packet"},
		{"torn in the header", join(pages[0], pages[1], pages[2], pages[3], pages[4][:20]), [][]byte{a, b, c}, "torn page"},
		{"torn in the body", join(pages[0], pages[1], pages[2], pages[3], pages[4][:40]), [][]byte{a, b, c}, "torn page"},
		{"torn in the capture pattern", join(pages[0], pages[1], pages[2], pages[3], pages[4][:2]), [][]byte{a, b, c}, "torn page"},
		{"corrupt length field", join(pages[0], pages[1], corrupt(pages[2], 26), pages[3], pages[4]), [][]byte{c, long, d}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newOgg(bytes.NewReader(tt.file), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, s)
			if len(got) != len(tt.tolerant) {
				t.Fatalf("tolerant: %d packets, want %d", len(got), len(tt.tolerant))
			}
			for i := range got {
				if !bytes.Equal(got[i].Data, tt.tolerant[i]) {
					t.Errorf("tolerant packet %d: %q, want %q", i, got[i].Data, tt.tolerant[i])
				}
			}
			err = readStrict(tt.file)
			switch {
			case tt.strictErr == "" && tt.name == "intact":
				if err != nil {
					t.Fatalf("strict: %v", err)
				}
			case tt.strictErr == "":
				if err == nil {
					t.Fatal("strict mode accepted the damage")
				}
			case err == nil || !strings.Contains(err.Error(), tt.strictErr):
				t.Fatalf("strict: %v, want an error containing %q", err, tt.strictErr)
			}
		})
	}
}

// readStrict reads a whole file in strict mode.
func readStrict(file []byte) error {
	s, err := newOgg(bytes.NewReader(file), nil, true)
	if err != nil {
		return err
	}
	for {
		if _, err := s.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// TestOggStreams: other logical streams are ignored, chained Opus streams
// play on.
func TestOggStreams(t *testing.T) {
	x := []byte{31 << 3, 'x'}
	y := []byte{31 << 3, 'y'}
	opus1 := oggPages(1, [][]byte{opusHead(2), opusTags(), x, x}, 255)
	opus2 := oggPages(2, [][]byte{opusHead(1), opusTags(), y}, 255)
	video := oggPages(3, [][]byte{[]byte("\x80theora"), []byte("\x81theora"), {1, 2, 3}, {4, 5, 6}}, 255)
	tests := []struct {
		name  string
		pages [][]byte
		want  [][]byte
	}{
		// Multiplexed: all BOS pages first (RFC 3533 §4), then interleaved.
		{"video first", [][]byte{video[0], opus1[0], video[1], opus1[1], video[2], opus1[2]}, [][]byte{x, x}},
		{"two Opus streams multiplexed: the first is followed", [][]byte{opus1[0], opus2[0], opus2[1], opus1[1], opus2[2], opus1[2]}, [][]byte{x, x}},
		{"chained", append(append([][]byte{}, opus1...), opus2...), [][]byte{x, x, y}},
	}
	// A recording torn without its EOS page, with another file appended.
	opus1Torn := bytes.Clone(opus1[len(opus1)-1])
	opus1Torn[5] &^= oggEOS
	binary.LittleEndian.PutUint32(opus1Torn[22:], oggCRC(opus1Torn))
	tornChain := append(append(append([][]byte{}, opus1[:len(opus1)-1]...), opus1Torn), opus2...)
	file := bytes.Join(tornChain, nil)
	s, err := newOgg(bytes.NewReader(file), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); len(got) != 3 || got[2].Data[1] != 'y' {
		t.Fatalf("torn chain: %q, want x x y", got)
	}
	if err := readStrict(file); err == nil || !strings.Contains(err.Error(), "chained before") {
		t.Fatalf("torn chain, strict: %v", err)
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, strict := range []bool{false, true} {
				s, err := newOgg(bytes.NewReader(bytes.Join(tt.pages, nil)), nil, strict)
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, s)
				if len(got) != len(tt.want) {
					t.Fatalf("strict %v: %d packets, want %d", strict, len(got), len(tt.want))
				}
				for i := range got {
					if !bytes.Equal(got[i].Data, tt.want[i]) {
						t.Errorf("strict %v: packet %d: %q, want %q", strict, i, got[i].Data, tt.want[i])
					}
				}
			}
		})
	}
	if _, err := newOgg(bytes.NewReader(bytes.Join(video, nil)), nil, false); !errors.Is(err, errNoOpus) {
		t.Fatalf("Theora only: %v, want errNoOpus", err)
	}
}

// TestOggLargeTags: cover art in OpusTags spans many pages and is not kept.
func TestOggLargeTags(t *testing.T) {
	tags := append(opusTags(), bytes.Repeat([]byte{0xee}, 3<<20)...)
	file := oggFile(5, [][]byte{opusHead(2), tags, {31 << 3, 1}})
	s, err := newOgg(bytes.NewReader(file), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s); len(got) != 1 || len(got[0].Data) != 2 {
		t.Fatalf("got %d packets", len(got))
	}
}

func TestOggMissingTags(t *testing.T) {
	file := oggFile(5, [][]byte{opusHead(2), {31 << 3, 1}, {31 << 3, 2}})
	s, err := newOgg(bytes.NewReader(file), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 2 {
		t.Fatalf("tolerant: %d packets, want 2", n)
	}
	if err := readStrict(file); err == nil || !strings.Contains(err.Error(), "OpusTags") {
		t.Fatalf("strict: %v", err)
	}
}

// TestOggCRC checks the checksum against a page written by a real muxer
// (the OpusHead page of ffmpeg's libopus output).
func TestOggCRC(t *testing.T) {
	page := []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x1c\xd5\xc5\xf7\x01\x13" +
		"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	if got, want := oggCRC(page), binary.LittleEndian.Uint32(page[22:]); got != want {
		t.Fatalf("CRC %08x, want %08x", got, want)
	}
}

// TestOggFFmpegOutput reads the demo clip, real libopus output from ffmpeg's
// Ogg muxer, in strict mode: every page checks out and every packet is a
// 20 ms Opus packet.
func TestOggFFmpegOutput(t *testing.T) {
	file, err := os.ReadFile("../demo/clip.ogg")
	if err != nil {
		t.Skip(err)
	}
	got, err := readOgg(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 500 {
		t.Fatalf("%d packets, want 10 s of 20 ms", len(got))
	}
	for i, s := range got {
		if s.Duration != 20*time.Millisecond {
			t.Fatalf("packet %d: %v", i, s.Duration)
		}
	}
}
