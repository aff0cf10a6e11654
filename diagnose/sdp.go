package diagnose

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/inspect"
)

// description is what the analyses need from one leg's SDP: payload types
// (RFC 8866 a=rtpmap), RTX associations (the apt= parameter of RFC 4588) and header
// extension IDs (RFC 8285 §5 a=extmap).
type description struct {
	known bool // an SDP was given: payload types and extension IDs can be checked
	pts   map[uint8]inspect.PayloadType
	apt   map[uint8]uint8 // RTX payload type -> the payload type it repairs
	ext   map[uint8]string
	cvo   uint8 // ID of urn:3gpp:video-orientation, 0 when not negotiated
	// copies lists the payload types that carry no media of their own:
	// RTX (RFC 4588) and redundancy (RFC 2198 RED, RFC 5109 ULPFEC,
	// FlexFEC), decided once rather than per packet.
	copies map[uint8]bool
}

func parseDescription(desc string) *description {
	d := &description{known: strings.TrimSpace(desc) != "", pts: inspect.PayloadTypes(desc), apt: map[uint8]uint8{}, ext: map[uint8]string{}, copies: map[uint8]bool{}}
	for pt, p := range d.pts {
		if redundancy(p.Name) {
			d.copies[pt] = true
		}
		if !strings.EqualFold(p.Name, "rtx") {
			continue
		}
		d.copies[pt] = true
		for _, kv := range strings.Split(inspect.Fmtp(desc, pt), ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "apt" {
				if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < 128 {
					d.apt[pt] = uint8(n)
				}
			}
		}
	}
	var sd sdp.SessionDescription
	if sd.UnmarshalString(desc) != nil {
		return d
	}
	for _, m := range sd.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key != "extmap" {
				continue
			}
			idStr, uri, ok := strings.Cut(a.Value, " ")
			idStr, _, _ = strings.Cut(idStr, "/")
			id, err := strconv.Atoi(idStr)
			fields := strings.Fields(uri)
			if !ok || err != nil || id <= 0 || id > 255 || len(fields) == 0 {
				continue
			}
			d.ext[uint8(id)] = fields[0]
			if fields[0] == codec.ExtVideoOrientation {
				d.cvo = uint8(id)
			}
		}
	}
	return d
}

// redundancy reports payload types that carry copies of media rather than
// media (RFC 2198 RED, RFC 5109 ULPFEC, FlexFEC): not analysed.
func redundancy(name string) bool {
	return strings.EqualFold(name, "red") || strings.EqualFold(name, "ulpfec") || strings.HasPrefix(strings.ToLower(name), "flexfec")
}

// extensionSize is the element length a header-extension URI defines, or 0
// when it varies. An element of another length under a negotiated ID means
// sender and receiver disagree on what the ID carries — the cause of the
// "rotating video" incident, where abs-send-time bytes were read as a
// video-orientation byte.
func extensionSize(uri string) int {
	switch uri {
	case codec.ExtVideoOrientation, codec.ExtAudioLevel, codec.ExtVideoContentType:
		return 1 // TS 26.114 §7.4.5, RFC 6464 §3
	case codec.ExtTransportCC:
		return 2
	case codec.ExtAbsSendTime, codec.ExtPlayoutDelay, codec.ExtTOffset:
		return 3 // RFC 5450 §3 for toffset
	}
	return 0
}
