package dump

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"slices"
	"time"
)

// Packet is one UDP datagram read from a capture.
type Packet struct {
	// Time is the capture timestamp; zero for a pcapng Simple Packet
	// Block, which has none.
	Time      time.Time
	Interface int // index into Reader.Interfaces()
	Src, Dst  netip.AddrPort
	// Payload is the UDP payload (RTP or RTCP); valid until the next call
	// to Next.
	Payload []byte
	// RTCP: version 2 and second byte in 192..223, the rule of RFC 5761
	// §4 for telling RTCP from RTP on a multiplexed port (RTCP packet
	// types 192-223 are RTP payload types 64-95 with the marker bit set,
	// which RTP must not use).
	RTCP bool
}

// Interface describes one capture interface: a pcapng Interface
// Description Block, or the single interface of a classic pcap file.
type Interface struct {
	Name, Description string
	LinkType          int
	// Received and Dropped are isb_ifrecv and isb_ifdrop of the last
	// Interface Statistics Block read for the interface (0 if none yet).
	Received, Dropped uint64
}

// Reader reads UDP datagrams from pcapng files (ours or any tool's, any
// number of sections and interfaces) and classic pcap files (microsecond or
// nanosecond, either byte order). It is tolerant of what crashes leave
// behind: a last block cut anywhere, or a tail of zeros (a file extended
// but not written before a power loss), ends the file with io.EOF after
// every complete packet. A damaged block inside the file is an error that
// names its offset.
type Reader struct {
	c    io.Closer
	ra   io.ReaderAt
	br   *bufio.Reader
	size int64
	off  int64 // offset of the next unread byte
	buf  []byte

	ng      bool
	order   binary.ByteOrder
	section []int // section-local interface ID → index in ifaces
	ifaces  []Interface
	clocks  []clock // per ifaces index

	// classic pcap
	nano     bool
	recHdr   int // 16, or 24 for the "modified" (Kuznetsov) format
	link     int
	zeroFrom int64 // start of the file's all-zero suffix; -1 until computed

	skipped int
	err     error // sticky
}

// clock converts an interface's timestamps: if_tsresol ticks per second and
// if_tsoffset seconds (pcapng §4.2).
type clock struct {
	perSec uint64
	offset int64
}

// pcapng block types (draft-ietf-opsawg-pcapng §10.1) and magic numbers.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 1
	blockPB  = 2 // obsolete Packet Block
	blockSPB = 3
	blockISB = 5
	blockEPB = 6

	byteOrderMagic = 0x1a2b3c4d

	pcapMagicMicro    = 0xa1b2c3d4
	pcapMagicNano     = 0xa1b23c4d
	pcapMagicModified = 0xa1b2cd34

	// maxBlock bounds one block or record, so that a damaged length
	// cannot make us allocate the whole file. Wireshark uses 16 MiB.
	maxBlock = 64 << 20
)

// Open opens a pcapng or classic pcap file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dump: %w", err)
	}
	r, err := newReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dump: %s: %w", path, err)
	}
	r.c = f
	return r, nil
}

// newReader reads the first size bytes of ra.
func newReader(ra io.ReaderAt, size int64) (*Reader, error) {
	r := &Reader{
		ra:       ra,
		br:       bufio.NewReaderSize(io.NewSectionReader(ra, 0, size), 64<<10),
		size:     size,
		zeroFrom: -1,
	}
	var m [4]byte
	n, _ := io.ReadFull(r.br, m[:])
	if n < 4 || r.zeroSuffix() < 4 {
		// A file cut (or zero-filled) before its magic is complete:
		// nothing to read, unless it cannot be the start of a
		// capture at all.
		n = int(min(int64(n), r.zeroSuffix()))
		for _, magic := range []uint32{blockSHB, pcapMagicMicro, pcapMagicNano, pcapMagicModified} {
			var b, l [4]byte
			binary.BigEndian.PutUint32(b[:], magic)
			binary.LittleEndian.PutUint32(l[:], magic)
			if string(m[:n]) == string(b[:n]) || string(m[:n]) == string(l[:n]) {
				r.err = io.EOF
				return r, nil
			}
		}
		return nil, errors.New("not a pcap or pcapng file")
	}
	be, le := binary.BigEndian.Uint32(m[:]), binary.LittleEndian.Uint32(m[:])
	switch {
	case be == blockSHB:
		r.ng = true
		r.br.Reset(io.NewSectionReader(ra, 0, size)) // re-read the SHB as a block
		return r, nil
	case be == pcapMagicMicro || be == pcapMagicNano || be == pcapMagicModified:
		r.order = binary.BigEndian
	case le == pcapMagicMicro || le == pcapMagicNano || le == pcapMagicModified:
		r.order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("not a pcap or pcapng file (magic %08x)", be)
	}
	magic := r.order.Uint32(m[:])
	r.nano = magic == pcapMagicNano
	r.recHdr = 16
	if magic == pcapMagicModified {
		r.recHdr = 24
	}
	var h [20]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		r.err = io.EOF // cut inside the file header
		return r, nil
	}
	r.off = 24
	// The link-layer header type is the low 16 bits of the last field;
	// the upper bits may carry FCS information.
	r.link = int(r.order.Uint32(h[16:]) & 0xffff)
	r.ifaces = []Interface{{LinkType: r.link}}
	return r, nil
}

// Interfaces returns the interfaces seen so far (pcapng declares them as
// it goes; all of a file's, with their statistics, are known once Next has
// returned io.EOF).
func (r *Reader) Interfaces() []Interface { return slices.Clone(r.ifaces) }

// Skipped returns the number of frames skipped so far: not UDP over IPv4
// or IPv6, IP fragments (not reassembled), truncated by the snapshot
// length, unknown link types or interfaces.
func (r *Reader) Skipped() int { return r.skipped }

// Close closes the file.
func (r *Reader) Close() error {
	if r.c == nil {
		return nil
	}
	return r.c.Close()
}

// Next returns the next UDP datagram, io.EOF at the end of the file.
func (r *Reader) Next() (Packet, error) {
	for r.err == nil {
		var (
			p    Packet
			data []byte
			link int
			ok   bool
		)
		if r.ng {
			data, link, ok = r.nextBlock(&p)
		} else {
			data, ok = r.nextRecord(&p)
			link = r.link
		}
		if r.err != nil {
			break
		}
		if !ok {
			continue
		}
		src, dst, payload, ok := decodeFrame(link, data)
		if !ok {
			r.skipped++
			continue
		}
		p.Src, p.Dst, p.Payload = src, dst, payload
		p.RTCP = len(payload) >= 2 && payload[0]>>6 == 2 && payload[1] >= 192 && payload[1] <= 223
		return p, nil
	}
	return Packet{}, r.err
}

// read fills b from the file; a short read means the file ends inside.
func (r *Reader) read(b []byte) bool {
	n, _ := io.ReadFull(r.br, b)
	r.off += int64(n)
	return n == len(b)
}

func (r *Reader) grow(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	return r.buf[:n]
}

// damaged ends the file at the invalid block or record that starts at
// start and spans extent bytes (its header alone if its length field is
// unusable): io.EOF if that is a torn tail, the file turning to zeros
// inside it (filesystems may extend a file before its data reaches the
// disk, and a power loss then leaves zeros); otherwise an error naming the
// offset. A block cut by the end of the file never gets here: its length
// field is intact, so Next sees it reach past the end.
func (r *Reader) damaged(start, extent int64, format string, args ...any) {
	if r.zeroSuffix() < start+extent {
		r.err = io.EOF
		return
	}
	r.err = fmt.Errorf("dump: damaged %s at offset %d: %s", r.kind(), start, fmt.Sprintf(format, args...))
}

func (r *Reader) kind() string {
	if r.ng {
		return "pcapng block"
	}
	return "pcap record"
}

// zeroSuffix returns where the file's trailing run of zero bytes starts
// (the file size if it does not end with a zero).
func (r *Reader) zeroSuffix() int64 {
	if r.zeroFrom >= 0 {
		return r.zeroFrom
	}
	var chunk [4096]byte
	end := r.size
	r.zeroFrom = r.size
scan:
	for end > 0 {
		n := min(int64(len(chunk)), end)
		b := chunk[:n]
		if _, err := r.ra.ReadAt(b, end-n); err != nil && !errors.Is(err, io.EOF) {
			break
		}
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] != 0 {
				r.zeroFrom = end - n + int64(i) + 1
				break scan
			}
		}
		end -= n
		r.zeroFrom = end
	}
	return r.zeroFrom
}

// nextBlock reads one pcapng block (draft-ietf-opsawg-pcapng §3.1: type,
// total length, body, total length again). It returns the frame of a
// packet block; other blocks update the reader's state.
func (r *Reader) nextBlock(p *Packet) (data []byte, link int, ok bool) {
	start := r.off
	if start == r.size {
		r.err = io.EOF
		return nil, 0, false
	}
	var h [12]byte
	if !r.read(h[:8]) {
		r.err = io.EOF
		return nil, 0, false
	}
	if binary.LittleEndian.Uint32(h[:4]) == blockSHB {
		// The byte order of a section is that of its SHB's
		// byte-order magic, which follows the length.
		if !r.read(h[8:12]) {
			r.err = io.EOF
			return nil, 0, false
		}
		switch {
		case binary.LittleEndian.Uint32(h[8:]) == byteOrderMagic:
			r.order = binary.LittleEndian
		case binary.BigEndian.Uint32(h[8:]) == byteOrderMagic:
			r.order = binary.BigEndian
		default:
			r.damaged(start, 12, "bad byte-order magic % x", h[8:12])
			return nil, 0, false
		}
	} else if r.order == nil {
		r.damaged(start, 8, "no section header")
		return nil, 0, false
	}
	typ := r.order.Uint32(h[:4])
	length := int64(r.order.Uint32(h[4:8]))
	if length < 12 || length%4 != 0 || length > maxBlock {
		r.damaged(start, 8, "block length %d", length)
		return nil, 0, false
	}
	if start+length > r.size {
		r.err = io.EOF // the torn last block
		return nil, 0, false
	}
	b := r.grow(int(length))
	copy(b, h[:r.off-start])
	if !r.read(b[r.off-start:]) {
		r.err = io.EOF
		return nil, 0, false
	}
	if trailer := int64(r.order.Uint32(b[length-4:])); trailer != length {
		r.damaged(start, length, "block length %d, trailing length %d", length, trailer)
		return nil, 0, false
	}
	body := b[8 : length-4]
	switch typ {
	case blockSHB:
		return nil, 0, r.sectionHeader(start, body)
	case blockIDB:
		r.interfaceDescription(body)
	case blockISB:
		r.interfaceStatistics(body)
	case blockEPB:
		return r.enhancedPacket(start, body, p)
	case blockSPB:
		return r.simplePacket(body, p)
	case blockPB:
		return r.obsoletePacket(start, body, p)
	}
	return nil, 0, false
}

func (r *Reader) sectionHeader(start int64, body []byte) bool {
	if len(body) < 16 {
		r.damaged(start, int64(len(body))+12, "section header too short")
		return false
	}
	if major := r.order.Uint16(body[4:]); major != 1 {
		r.err = fmt.Errorf("dump: pcapng block at offset %d: unsupported version %d.%d", start, major, r.order.Uint16(body[6:]))
		return false
	}
	r.section = r.section[:0]
	return false
}

// options calls fn for each option (pcapng §3.5: code, length, value
// padded to 32 bits) until opt_endofopt or the end; a malformed option
// ends the list (tolerant: options are metadata).
func (r *Reader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			return
		}
		fn(code, b[4:4+n])
		b = b[min(len(b), 4+(n+3)&^3):]
	}
}

func (r *Reader) interfaceDescription(body []byte) {
	intf := Interface{LinkType: -1}
	c := clock{perSec: 1e6} // default if_tsresol: microseconds
	if len(body) >= 8 {
		intf.LinkType = int(r.order.Uint16(body))
		r.options(body[8:], func(code uint16, v []byte) {
			switch code {
			case 2: // if_name
				intf.Name = string(v)
			case 3: // if_description
				intf.Description = string(v)
			case 9: // if_tsresol: 10^-n, or 2^-n with the top bit set
				if len(v) < 1 {
					return
				}
				n := uint64(v[0] & 0x7f)
				switch {
				case v[0]&0x80 != 0 && n < 64:
					c.perSec = 1 << n
				case v[0]&0x80 == 0 && n <= 19:
					c.perSec = 1
					for range n {
						c.perSec *= 10
					}
				}
			case 14: // if_tsoffset, seconds
				if len(v) >= 8 {
					c.offset = int64(r.order.Uint64(v))
				}
			}
		})
	}
	r.section = append(r.section, len(r.ifaces))
	r.ifaces = append(r.ifaces, intf)
	r.clocks = append(r.clocks, c)
}

func (r *Reader) interfaceStatistics(body []byte) {
	if len(body) < 12 {
		return
	}
	id := int(r.order.Uint32(body))
	if id >= len(r.section) {
		return
	}
	intf := &r.ifaces[r.section[id]]
	r.options(body[12:], func(code uint16, v []byte) {
		if len(v) < 8 {
			return
		}
		switch code {
		case 4: // isb_ifrecv
			intf.Received = r.order.Uint64(v)
		case 5: // isb_ifdrop
			intf.Dropped = r.order.Uint64(v)
		}
	})
}

// iface maps a section-local interface ID, or skips the packet.
func (r *Reader) iface(id uint32, p *Packet) (link int, ok bool) {
	if uint64(id) >= uint64(len(r.section)) {
		r.skipped++
		return 0, false
	}
	p.Interface = r.section[id]
	return r.ifaces[p.Interface].LinkType, true
}

func (r *Reader) enhancedPacket(start int64, body []byte, p *Packet) ([]byte, int, bool) {
	if len(body) < 20 {
		r.damaged(start, int64(len(body))+12, "enhanced packet block too short")
		return nil, 0, false
	}
	capLen := r.order.Uint32(body[12:])
	if uint64(capLen) > uint64(len(body)-20) {
		r.damaged(start, int64(len(body))+12, "captured length %d beyond the block", capLen)
		return nil, 0, false
	}
	link, ok := r.iface(r.order.Uint32(body), p)
	if !ok {
		return nil, 0, false
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	p.Time = r.clocks[p.Interface].time(ts)
	return body[20 : 20+capLen], link, true
}

// simplePacket: no interface ID (always the section's first), no
// timestamp, captured length min(original length, snapshot length).
func (r *Reader) simplePacket(body []byte, p *Packet) ([]byte, int, bool) {
	if len(body) < 4 {
		return nil, 0, false
	}
	link, ok := r.iface(0, p)
	if !ok {
		return nil, 0, false
	}
	n := min(uint64(r.order.Uint32(body)), uint64(len(body)-4))
	return body[4 : 4+n], link, true
}

func (r *Reader) obsoletePacket(start int64, body []byte, p *Packet) ([]byte, int, bool) {
	if len(body) < 20 {
		r.damaged(start, int64(len(body))+12, "packet block too short")
		return nil, 0, false
	}
	capLen := r.order.Uint32(body[12:])
	if uint64(capLen) > uint64(len(body)-20) {
		r.damaged(start, int64(len(body))+12, "captured length %d beyond the block", capLen)
		return nil, 0, false
	}
	link, ok := r.iface(uint32(r.order.Uint16(body)), p)
	if !ok {
		return nil, 0, false
	}
	ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
	p.Time = r.clocks[p.Interface].time(ts)
	return body[20 : 20+capLen], link, true
}

func (c clock) time(ts uint64) time.Time {
	sec, frac := ts/c.perSec, ts%c.perSec
	// frac·10^9/perSec without overflow: hi < perSec since frac < perSec.
	hi, lo := bits.Mul64(frac, 1e9)
	ns, _ := bits.Div64(hi, lo, c.perSec)
	return time.Unix(int64(sec)+c.offset, int64(ns))
}

// nextRecord reads one classic pcap record (16-byte header: seconds,
// micro- or nanoseconds, captured length, original length).
func (r *Reader) nextRecord(p *Packet) ([]byte, bool) {
	start := r.off
	if start == r.size {
		r.err = io.EOF
		return nil, false
	}
	if r.zeroSuffix() <= start {
		r.err = io.EOF // zeros where records should be: a torn tail
		return nil, false
	}
	var h [24]byte
	if !r.read(h[:r.recHdr]) {
		r.err = io.EOF
		return nil, false
	}
	capLen := int64(r.order.Uint32(h[8:]))
	if capLen > maxBlock {
		r.damaged(start, int64(r.recHdr), "captured length %d", capLen)
		return nil, false
	}
	if start+int64(r.recHdr)+capLen > r.size {
		r.err = io.EOF // the torn last record
		return nil, false
	}
	b := r.grow(int(capLen))
	if !r.read(b) {
		r.err = io.EOF
		return nil, false
	}
	frac := int64(r.order.Uint32(h[4:]))
	if !r.nano {
		frac *= 1e3
	}
	p.Time = time.Unix(int64(r.order.Uint32(h[:4])), frac)
	return b, true
}
