package replay

import (
	"encoding/binary"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// ivfTimebase is the IVF time base denominator: the RTP video clock
// (RFC 7741 §4.1, RFC 9628 §4.1: 90 kHz), so pts are the sender's
// timestamps, rebased.
const ivfTimebase = 90000

// ivfWriter writes IVF, the container of libvpx and libaom tools: a
// 32-byte file header ("DKIF", version 0, header size 32, fourcc, width,
// height, time base rate and scale, frame count) and per frame a 12-byte
// header (size, 64-bit pts) before the data. Width and height come from the
// first frame, which is always a key frame.
type ivfWriter struct {
	o      *outFile
	fourcc string
	av1    bool
	frames uint32
	last   int64
}

func newIVFWriter(o *outFile, c codec.Codec) *ivfWriter {
	w := &ivfWriter{o: o, last: -1}
	switch c {
	case codec.VP8:
		w.fourcc = "VP80"
	case codec.VP9:
		w.fourcc = "VP90"
	case codec.AV1:
		w.fourcc, w.av1 = "AV01", true
	}
	return w
}

func (w *ivfWriter) write(pts time.Duration, it *item) error {
	if !it.video {
		return nil
	}
	if w.frames == 0 {
		var h [32]byte
		copy(h[:], "DKIF")
		binary.LittleEndian.PutUint16(h[6:], 32)
		copy(h[8:], w.fourcc)
		binary.LittleEndian.PutUint16(h[12:], uint16(it.width))
		binary.LittleEndian.PutUint16(h[14:], uint16(it.height))
		binary.LittleEndian.PutUint32(h[16:], ivfTimebase)
		binary.LittleEndian.PutUint32(h[20:], 1)
		if _, err := w.o.Write(h[:]); err != nil {
			return err
		}
	}
	ticks := int64(pts.Round(0) * ivfTimebase / time.Second)
	if ticks <= w.last {
		ticks = w.last + 1 // pts must increase
	}
	w.last = ticks
	data := it.data
	if w.av1 && !hasTemporalDelimiter(data) {
		// An IVF AV1 frame is a temporal unit, which starts with a
		// temporal delimiter OBU (AV1 spec §7.5); RTP leaves it out
		// (AV1 RTP §5), so it is put back.
		data = append([]byte{obuTemporalDelimiter<<3 | 0x02, 0}, data...)
	}
	var fh [12]byte
	binary.LittleEndian.PutUint32(fh[:], uint32(len(data)))
	binary.LittleEndian.PutUint64(fh[4:], uint64(ticks))
	if _, err := w.o.Write(fh[:]); err != nil {
		return err
	}
	if _, err := w.o.Write(data); err != nil {
		return err
	}
	w.frames++
	return nil
}

func (w *ivfWriter) close() error {
	if w.frames > 0 {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], w.frames)
		if err := w.o.patch(24, n[:]); err != nil {
			w.o.close()
			return err
		}
	}
	return w.o.close()
}
