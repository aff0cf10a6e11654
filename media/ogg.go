package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Ogg page layout (RFC 3533 §6), little endian:
//
//	 0  "OggS" capture pattern
//	 4  stream_structure_version (0)
//	 5  header_type_flag: 0x01 continued packet, 0x02 BOS, 0x04 EOS
//	 6  granule_position u64
//	14  bitstream_serial_number u32
//	18  page_sequence_number u32
//	22  CRC_checksum u32
//	26  number_page_segments
//	27  segment_table (lacing values), then the page body
//
// A packet is the concatenation of segments up to and including the first
// lacing value below 255; a page that ends on 255 continues the packet on
// the next page of the same logical stream (RFC 3533 §5, §6).
const (
	oggCapture    = "OggS"
	oggHeaderSize = 27
	oggMaxPage    = oggHeaderSize + 255 + 255*255

	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

// errOggDamaged marks a page that cannot be used: lost capture pattern,
// unknown version, CRC mismatch, or cut off by the end of the file.
var errOggDamaged = errors.New("damaged Ogg page")

// oggPage is one verified page; lacing and body are owned by the page.
type oggPage struct {
	flags   byte
	granule uint64
	serial  uint32
	seq     uint32
	lacing  []byte
	body    []byte
}

// oggPageReader reads Ogg pages (RFC 3533).
//
// In tolerant mode (the default for publishing) damage is skipped: the
// reader moves one byte past the damaged page's capture pattern and scans
// for the next "OggS", which is what the capture pattern is for (RFC 3533
// §6), so garbage, a corrupt page or a torn page at the end of a file still
// being written cost only the packets they held. In strict mode the first
// damage is an error, for tests and for checking files.
type oggPageReader struct {
	r      *bufio.Reader // at least oggMaxPage bytes of buffer
	strict bool
	off    int64 // file offset of r's next byte, for errors
}

// next returns the next page, io.EOF at a clean end of the file.
func (pr *oggPageReader) next() (oggPage, error) {
	for {
		page, size, err := pr.peek()
		if err == nil {
			pr.discard(size)
			return page, nil
		}
		if !errors.Is(err, errOggDamaged) {
			return oggPage{}, err // io.EOF at a page boundary, or an I/O error
		}
		if pr.strict {
			return oggPage{}, fmt.Errorf("offset %d: %w", pr.off, err)
		}
		if err := pr.resync(); err != nil {
			return oggPage{}, err
		}
	}
}

// peek parses the page at the read position without consuming it, so that
// a damaged page can be rescanned byte by byte.
func (pr *oggPageReader) peek() (oggPage, int, error) {
	h, err := pr.r.Peek(oggHeaderSize)
	if len(h) == 0 && err != nil {
		return oggPage{}, 0, err
	}
	if !bytes.HasPrefix(h, []byte(oggCapture)) && !bytes.HasPrefix([]byte(oggCapture), h) {
		return oggPage{}, 0, fmt.Errorf("%w: lost sync (no OggS capture pattern)", errOggDamaged)
	}
	if err != nil {
		return oggPage{}, 0, tornOr(err)
	}
	if h[4] != 0 {
		return oggPage{}, 0, fmt.Errorf("%w: stream structure version %d, want 0", errOggDamaged, h[4])
	}
	n := oggHeaderSize + int(h[26])
	hs, err := pr.r.Peek(n)
	if err != nil {
		return oggPage{}, 0, tornOr(err)
	}
	size := n
	for _, l := range hs[oggHeaderSize:] {
		size += int(l)
	}
	raw, err := pr.r.Peek(size)
	if err != nil {
		return oggPage{}, 0, tornOr(err)
	}
	if want, got := binary.LittleEndian.Uint32(raw[22:26]), oggCRC(raw); want != got {
		return oggPage{}, 0, fmt.Errorf("%w: CRC %08x, want %08x", errOggDamaged, got, want)
	}
	return oggPage{
		flags:   raw[5],
		granule: binary.LittleEndian.Uint64(raw[6:14]),
		serial:  binary.LittleEndian.Uint32(raw[14:18]),
		seq:     binary.LittleEndian.Uint32(raw[18:22]),
		lacing:  bytes.Clone(raw[oggHeaderSize:n]),
		body:    bytes.Clone(raw[n:]),
	}, size, nil
}

// tornOr reports a page cut off by the end of the file as damage.
func tornOr(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: torn page at the end of the file", errOggDamaged)
	}
	return err
}

// resync skips to the next capture pattern after the current position.
func (pr *oggPageReader) resync() error {
	pr.discard(1)
	for {
		buf, err := pr.r.Peek(4096)
		if i := bytes.Index(buf, []byte(oggCapture)); i >= 0 {
			pr.discard(i)
			return nil
		}
		if err != nil {
			pr.discard(len(buf))
			return err // io.EOF: no further page
		}
		pr.discard(len(buf) - len(oggCapture) + 1)
	}
}

// discard drops n bytes that a Peek has already buffered.
func (pr *oggPageReader) discard(n int) {
	d, _ := pr.r.Discard(n)
	pr.off += int64(d)
}

// oggCRCTable drives the Ogg CRC-32 (RFC 3533 §6): polynomial 0x04c11db7,
// MSB first (not the reflected zlib CRC), initial value 0, no final XOR.
// It is computed once and only read.
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is the checksum of a raw page, computed with its CRC field as zero.
func oggCRC(page []byte) uint32 {
	if len(page) < 26 {
		return OggCRC(0, page)
	}
	crc := OggCRC(0, page[:22])
	crc = OggCRC(crc, []byte{0, 0, 0, 0})
	return OggCRC(crc, page[26:])
}

// OggCRC continues the Ogg page checksum crc over b (RFC 3533 §6); start
// with 0. Writers (replay) and this reader share it.
func OggCRC(crc uint32, b []byte) uint32 {
	for _, c := range b {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}
