package replay

import (
	"encoding/binary"
	"math"
)

// EBML (RFC 8794) and the Matroska/WebM element IDs used here (RFC 9559,
// https://www.webmproject.org/docs/container/). IDs are written as their
// raw bytes, marker bits included.
const (
	idEBML               = 0x1A45DFA3
	idEBMLVersion        = 0x4286
	idEBMLReadVersion    = 0x42F7
	idEBMLMaxIDLength    = 0x42F2
	idEBMLMaxSizeLength  = 0x42F3
	idDocType            = 0x4282
	idDocTypeVersion     = 0x4287
	idDocTypeReadVersion = 0x4285
	idVoid               = 0xEC

	idSegment      = 0x18538067
	idSeekHead     = 0x114D9B74
	idSeek         = 0x4DBB
	idSeekID       = 0x53AB
	idSeekPosition = 0x53AC

	idInfo           = 0x1549A966
	idTimestampScale = 0x2AD7B1
	idMuxingApp      = 0x4D80
	idWritingApp     = 0x5741
	idDuration       = 0x4489

	idTracks            = 0x1654AE6B
	idTrackEntry        = 0xAE
	idTrackNumber       = 0xD7
	idTrackUID          = 0x73C5
	idTrackType         = 0x83
	idFlagLacing        = 0x9C
	idCodecID           = 0x86
	idCodecPrivate      = 0x63A2
	idCodecDelay        = 0x56AA
	idSeekPreRoll       = 0x56BB
	idVideo             = 0xE0
	idPixelWidth        = 0xB0
	idPixelHeight       = 0xBA
	idAudio             = 0xE1
	idSamplingFrequency = 0xB5
	idChannels          = 0x9F

	idCluster     = 0x1F43B675
	idTimestamp   = 0xE7
	idSimpleBlock = 0xA3

	idCues               = 0x1C53BB6B
	idCuePoint           = 0xBB
	idCueTime            = 0xB3
	idCueTrackPositions  = 0xB7
	idCueTrack           = 0xF7
	idCueClusterPosition = 0xF1
)

// unknownSize is the 8-byte element size "unknown" (RFC 8794 §6.2: all
// value bits set): for the Segment and Clusters of a file still being
// written, so that a torn file is still valid.
const unknownSize = "\x01\xff\xff\xff\xff\xff\xff\xff"

func appendID(b []byte, id uint32) []byte {
	switch {
	case id > 0xffffff:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id > 0xffff:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id > 0xff:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize writes n as a variable-size integer of the fewest octets
// (RFC 8794 §4): the length marker is the position of the first set bit,
// and the all-ones value of each length is reserved for "unknown".
func appendSize(b []byte, n uint64) []byte {
	l := 1
	for l < 8 && n >= 1<<(7*l)-1 {
		l++
	}
	v := n | 1<<(7*l)
	for i := l - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// size8 is n as an 8-octet variable-size integer, the form patched into
// sizes reserved as unknown.
func size8(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n|1<<56)
	return b[:]
}

func appendElement(b []byte, id uint32, data []byte) []byte {
	return append(appendSize(appendID(b, id), uint64(len(data))), data...)
}

// appendUint writes an unsigned integer element in the fewest octets.
func appendUint(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	b = appendSize(appendID(b, id), uint64(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func appendFloat(b []byte, id uint32, f float64) []byte {
	b = appendSize(appendID(b, id), 8)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func appendString(b []byte, id uint32, s string) []byte {
	return appendElement(b, id, []byte(s))
}

// appendVoid writes a Void element of exactly n ≥ 2 octets in total:
// reserved space to be overwritten later.
func appendVoid(b []byte, n int) []byte {
	b = append(b, idVoid)
	if n-2 < 127 {
		b = appendSize(b, uint64(n-2))
		return append(b, make([]byte, n-2)...)
	}
	b = append(b, size8(uint64(n-9))...)
	return append(b, make([]byte, n-9)...)
}
