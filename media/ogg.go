package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/bcastdev/bcast/codec"
)

// oggSource reads Opus packets from an Ogg stream (RFC 3533 pages, RFC 7845
// Ogg Opus). A packet may span pages and a page may hold several packets, so
// packets are rebuilt from the lacing values of each page's segment table.
// A torn last page (a crash while recording) ends the stream quietly.
type oggSource struct {
	r      io.Reader
	closer io.Closer
	name   string
	serial uint32
	follow bool     // serial is set
	queue  [][]byte // complete packets of the current page
	part   []byte   // packet continued on the next page
	done   bool
	hdr    [27]byte
}

func newOgg(r io.Reader, closer io.Closer, name string) (*oggSource, error) {
	s := &oggSource{r: r, closer: closer, name: name}
	head, err := s.packet()
	if err != nil {
		return nil, fmt.Errorf("%s: Ogg: %w", name, err)
	}
	if !bytes.HasPrefix(head, []byte("OpusHead")) {
		return nil, fmt.Errorf("%s: Ogg stream is not Opus (no OpusHead)", name)
	}
	tags, err := s.packet()
	if err != nil || !bytes.HasPrefix(tags, []byte("OpusTags")) {
		return nil, fmt.Errorf("%s: Ogg Opus without OpusTags header", name)
	}
	return s, nil
}

func (s *oggSource) MimeType() string  { return "audio/opus" }
func (s *oggSource) ClockRate() uint32 { return 48000 }
func (s *oggSource) Channels() uint16  { return 2 }

func (s *oggSource) Next() (Sample, error) {
	for {
		p, err := s.packet()
		if err != nil {
			return Sample{}, err
		}
		d, err := codec.OpusPacketDuration(p)
		if err != nil || d == 0 {
			continue // not a decodable Opus packet: skip it rather than stall the pacing
		}
		return Sample{Data: p, Duration: d}, nil
	}
}

// packet returns the next complete packet of the first logical stream.
func (s *oggSource) packet() ([]byte, error) {
	for len(s.queue) == 0 {
		if s.done {
			return nil, io.EOF
		}
		if err := s.page(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				s.done = true
				continue
			}
			return nil, err
		}
	}
	p := s.queue[0]
	s.queue = s.queue[1:]
	return p, nil
}

// page reads one page and splits it into packets.
func (s *oggSource) page() error {
	h := s.hdr[:]
	if _, err := io.ReadFull(s.r, h); err != nil {
		return err
	}
	if !bytes.Equal(h[:4], []byte("OggS")) || h[4] != 0 {
		return fmt.Errorf("%s: not an Ogg page (lost sync)", s.name)
	}
	serial := binary.LittleEndian.Uint32(h[14:18])
	nseg := int(h[26])
	lacing := make([]byte, nseg)
	if _, err := io.ReadFull(s.r, lacing); err != nil {
		return err
	}
	size := 0
	for _, l := range lacing {
		size += int(l)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(s.r, body); err != nil {
		return err
	}
	if h[5]&0x02 != 0 && !s.follow { // beginning of stream: follow the first one
		s.serial, s.follow = serial, true
	}
	if serial != s.serial {
		return nil // another logical stream (multiplexed file)
	}
	if h[5]&0x01 == 0 {
		s.part = nil // not a continuation: any partial packet was lost
	}
	off, start := 0, 0
	for _, l := range lacing {
		off += int(l)
		if l < 255 {
			s.queue = append(s.queue, append(s.part, body[start:off]...))
			s.part, start = nil, off
		}
	}
	if start < off {
		s.part = append(s.part, body[start:off]...)
	}
	return nil
}

func (s *oggSource) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}
