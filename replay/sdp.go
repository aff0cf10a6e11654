package replay

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/bcastdev/bcast/codec"
	"github.com/bcastdev/bcast/inspect"
)

// payloadType is what a session description says about one RTP payload
// type, with the two facts inspect.PayloadType leaves out: the channel
// count of an audio codec and the payload type an RTX payload type repairs.
type payloadType struct {
	inspect.PayloadType
	// Channels is the rtpmap encoding parameter of an audio payload type
	// (RFC 8866 §6.6: "opus/48000/2"); 0 when absent.
	Channels int
	// APT is the associated payload type of an RTX payload type
	// (RFC 4588 §8.1: a=fmtp:97 apt=96); -1 when none.
	APT int
}

// role is how replay treats the packets of a payload type.
type role int

const (
	roleUnknown role = iota // no rtpmap: not ours to guess
	roleMedia               // a codec replay can write
	roleRTX                 // RFC 4588 retransmission
	roleRED                 // RFC 2198 redundant audio/video data
	roleOther               // FEC, comfort noise, DTMF and other codecs
)

func (p payloadType) role() role {
	switch {
	case p.Codec != codec.Unknown:
		return roleMedia
	case strings.EqualFold(p.Name, "rtx"):
		if p.APT < 0 {
			return roleOther
		}
		return roleRTX
	case strings.EqualFold(p.Name, "red"):
		return roleRED
	case p.Name != "" || p.Kind != "":
		return roleOther
	}
	return roleUnknown
}

// payloadTypes maps the payload types of a session description. An
// unparsable or empty description yields an empty map.
func payloadTypes(desc string) map[uint8]payloadType {
	base := inspect.PayloadTypes(desc)
	out := make(map[uint8]payloadType, len(base))
	for pt, p := range base {
		out[pt] = payloadType{PayloadType: p, APT: -1}
	}
	if len(base) == 0 {
		return out
	}
	var d sdp.SessionDescription
	if d.UnmarshalString(desc) != nil {
		return out
	}
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			ptStr, rest, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(ptStr)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			p, known := out[uint8(n)]
			if !known {
				continue
			}
			switch a.Key {
			case "rtpmap":
				if parts := strings.Split(rest, "/"); len(parts) > 2 {
					if c, err := strconv.Atoi(strings.TrimSpace(parts[2])); err == nil && c > 0 && c <= 255 {
						p.Channels = c
					}
				}
			case "fmtp":
				for _, param := range strings.Split(rest, ";") {
					k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
					if strings.EqualFold(k, "apt") {
						if apt, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && apt >= 0 && apt <= 127 {
							p.APT = apt
						}
					}
				}
			}
			out[uint8(n)] = p
		}
	}
	return out
}

// ptTable resolves payload types for one capture interface: an SDP given
// with --sdp first (the operator said so explicitly, as with `dump info`),
// then the one the capture carries (bcast dumps store it in the interface
// description).
type ptTable struct {
	own, override map[uint8]payloadType
}

func (t ptTable) lookup(pt uint8) (payloadType, bool) {
	if p, ok := t.override[pt]; ok {
		return p, true
	}
	p, ok := t.own[pt]
	return p, ok
}
