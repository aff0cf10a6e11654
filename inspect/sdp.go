package inspect

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/bcastdev/bcast/codec"
)

// PayloadType is what a session description says about one RTP payload type.
type PayloadType struct {
	Codec     codec.Codec
	Name      string // encoding name as written (e.g. "VP8", "rtx", "red")
	ClockRate uint32
	Kind      string // "audio" or "video" (the media section)
}

// PayloadTypes maps payload types to codecs from an SDP (RFC 8866 a=rtpmap),
// plus the static payload types of RFC 3551 that need no rtpmap. An
// unparsable description yields an empty map: captures must still be read.
func PayloadTypes(desc string) map[uint8]PayloadType {
	out := map[uint8]PayloadType{}
	var d sdp.SessionDescription
	if strings.TrimSpace(desc) == "" || d.UnmarshalString(desc) != nil {
		return out
	}
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		for _, f := range m.MediaName.Formats {
			if pt, err := strconv.Atoi(f); err == nil && pt >= 0 && pt < 128 {
				if s, ok := staticPT[uint8(pt)]; ok {
					out[uint8(pt)] = s
				}
			}
		}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			ptStr, rest, ok := strings.Cut(a.Value, " ")
			pt, err := strconv.Atoi(ptStr)
			if !ok || err != nil || pt < 0 || pt > 127 {
				continue
			}
			parts := strings.Split(rest, "/")
			p := PayloadType{Name: parts[0], Kind: kind, Codec: codec.FromMime(kind + "/" + parts[0])}
			if len(parts) > 1 {
				if c, err := strconv.ParseUint(parts[1], 10, 32); err == nil {
					p.ClockRate = uint32(c)
				}
			}
			out[uint8(pt)] = p
		}
	}
	return out
}

// staticPT lists RFC 3551 static payload types a capture may use without rtpmap.
var staticPT = map[uint8]PayloadType{
	0:  {Name: "PCMU", ClockRate: 8000, Kind: "audio"},
	8:  {Name: "PCMA", ClockRate: 8000, Kind: "audio"},
	9:  {Name: "G722", ClockRate: 8000, Kind: "audio"},
	26: {Name: "JPEG", ClockRate: 90000, Kind: "video"},
	34: {Name: "H263", ClockRate: 90000, Kind: "video"},
}

// Fmtp returns the a=fmtp parameters of payload type pt in an SDP, or "".
func Fmtp(desc string, pt uint8) string {
	var d sdp.SessionDescription
	if d.UnmarshalString(desc) != nil {
		return ""
	}
	prefix := strconv.Itoa(int(pt)) + " "
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key == "fmtp" && strings.HasPrefix(a.Value, prefix) {
				return strings.TrimPrefix(a.Value, prefix)
			}
		}
	}
	return ""
}
