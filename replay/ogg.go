package replay

import (
	"encoding/binary"
	"time"

	"github.com/bcastdev/bcast/media"
)

// Opus in containers (RFC 7845 §4.2, Matroska A_OPUS): the decoder drops
// the first pre-skip samples, the encoder's look-ahead. RTP does not carry
// the sender's value; 312 samples (6.5 ms) is libopus's and what WebRTC
// senders use.
const (
	opusPreSkip     = 312
	opusSampleRate  = 48000 // Opus RTP clock and granule rate (RFC 7587 §4.1)
	opusSeekPreRoll = 80 * time.Millisecond
)

// opusHead is the identification header (RFC 7845 §5.1): version 1,
// channel count, pre-skip, input sample rate, output gain 0, channel mapping
// family 0 (mono or stereo).
func opusHead(channels int) []byte {
	channels = min(max(channels, 1), 2)
	b := make([]byte, 19)
	copy(b, "OpusHead")
	b[8] = 1
	b[9] = byte(channels)
	binary.LittleEndian.PutUint16(b[10:], opusPreSkip)
	binary.LittleEndian.PutUint32(b[12:], opusSampleRate)
	return b
}

// opusTags is the comment header (RFC 7845 §5.2): vendor string, no user
// comments.
func opusTags() []byte {
	const vendor = "bcast"
	b := make([]byte, 0, 8+4+len(vendor)+4)
	b = append(b, "OpusTags"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vendor)))
	b = append(b, vendor...)
	return binary.LittleEndian.AppendUint32(b, 0)
}

// oggWriter writes Ogg Opus (RFC 3533 pages, RFC 7845 mapping): a page
// with OpusHead (beginning of stream), a page with OpusTags, then audio
// pages of up to a second each whose granule position is the number of
// 48 kHz samples decoded through the last packet completed on the page,
// pre-skip included (§4). The last page carries the end-of-stream flag.
// Pages are written as they fill, so a torn file plays to its last page.
type oggWriter struct {
	o        *outFile
	channels int
	serial   uint32
	seq      uint32
	started  bool
	samples  int64 // granule: samples through the last packet added
	pending  [][]byte
	segments int
	dur      time.Duration
}

// Ogg header type flags (RFC 3533 §6).
const (
	oggContinued = 0x01
	oggBOS       = 0x02
	oggEOS       = 0x04
)

func newOggWriter(o *outFile, channels int, serial uint32) *oggWriter {
	return &oggWriter{o: o, channels: channels, serial: serial}
}

func (w *oggWriter) write(_ time.Duration, it *item) error {
	if it.video {
		return nil
	}
	if !w.started {
		w.started = true
		if err := w.page(oggBOS, 0, [][]byte{opusHead(w.channels)}); err != nil {
			return err
		}
		if err := w.page(0, 0, [][]byte{opusTags()}); err != nil {
			return err
		}
	}
	segs := len(it.data)/255 + 1
	if len(w.pending) > 0 && (w.segments+segs > 255 || w.dur >= time.Second) {
		if err := w.flush(0); err != nil {
			return err
		}
	}
	w.pending = append(w.pending, it.data)
	w.segments += segs
	w.dur += it.dur
	w.samples += int64(it.dur * opusSampleRate / time.Second)
	return nil
}

func (w *oggWriter) flush(flags byte) error {
	err := w.page(flags, w.samples, w.pending)
	w.pending, w.segments, w.dur = w.pending[:0], 0, 0
	return err
}

func (w *oggWriter) close() error {
	var err error
	if w.started {
		err = w.flush(oggEOS)
	}
	if cerr := w.o.close(); err == nil {
		err = cerr
	}
	return err
}

// page writes one page of whole packets (RFC 3533 §6): header, lacing
// values (255 per full segment, then the remainder, so a multiple of 255
// ends with a 0), the packets; the CRC covers the page with its CRC field
// zeroed.
func (w *oggWriter) page(flags byte, granule int64, packets [][]byte) error {
	hdr := make([]byte, 27, 27+255)
	copy(hdr, "OggS")
	hdr[5] = flags
	binary.LittleEndian.PutUint64(hdr[6:], uint64(granule))
	binary.LittleEndian.PutUint32(hdr[14:], w.serial)
	binary.LittleEndian.PutUint32(hdr[18:], w.seq)
	for _, p := range packets {
		n := len(p)
		for ; n >= 255; n -= 255 {
			hdr = append(hdr, 255)
		}
		hdr = append(hdr, byte(n))
	}
	hdr[26] = byte(len(hdr) - 27)
	crc := media.OggCRC(0, hdr)
	for _, p := range packets {
		crc = media.OggCRC(crc, p)
	}
	binary.LittleEndian.PutUint32(hdr[22:], crc)
	w.seq++
	if _, err := w.o.Write(hdr); err != nil {
		return err
	}
	for _, p := range packets {
		if _, err := w.o.Write(p); err != nil {
			return err
		}
	}
	return nil
}
