package codec

import (
	"errors"
	"testing"
	"time"
)

func TestEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want bool
	}{
		{ExtVideoOrientation, true},
		{ExtAudioLevel, true},
		{ExtPlayoutDelay, true},
		{ExtAbsCaptureTime, true},
		{ExtColorSpace, true},
		{ExtVideoContentType, true},
		{ExtVideoTiming, true},
		{ExtMid, false},
		{ExtRID, false},
		{ExtRepairedRID, false},
		{ExtAbsSendTime, false},
		{ExtTransportCC, false},
		{ExtTOffset, false},
		{"http://www.webrtc.org/experiments/rtp-hdrext/transport-wide-cc-02", false},
		{"urn:3gpp:video-orientation:6", false},
		{"", false},
	} {
		if got := EndToEnd(tc.uri); got != tc.want {
			t.Errorf("EndToEnd(%q) = %v, want %v", tc.uri, got, tc.want)
		}
	}
}

func TestParseVideoOrientation(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want Orientation
		err  error
	}{
		{[]byte{0x00}, Orientation{}, nil},
		{[]byte{0x01}, Orientation{Rotation: 90}, nil},
		{[]byte{0x02}, Orientation{Rotation: 180}, nil},
		{[]byte{0x03}, Orientation{Rotation: 270}, nil},
		{[]byte{0x04}, Orientation{Flip: true}, nil},
		{[]byte{0x08}, Orientation{BackCamera: true}, nil},
		{[]byte{0x0d}, Orientation{Rotation: 90, BackCamera: true, Flip: true}, nil},
		{[]byte{0x0f}, Orientation{Rotation: 270, BackCamera: true, Flip: true}, nil},
		{[]byte{0xf1}, Orientation{Rotation: 90}, nil}, // reserved bits ignored
		{nil, Orientation{}, ErrTruncated},
		{[]byte{0x01, 0x00}, Orientation{}, ErrMalformed},
	} {
		got, err := ParseVideoOrientation(tc.in)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("ParseVideoOrientation(% x) = %+v, %v; want %+v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestAbsSendTime(t *testing.T) {
	// 1970 is a multiple of 64 s after the NTP epoch (2208988800 = 64 *
	// 34515450), so Unix times map directly onto the 64 s wrap.
	for _, tc := range []struct {
		t    time.Time
		want [3]byte
	}{
		{time.Unix(0, 0), [3]byte{0x00, 0x00, 0x00}},
		{time.Unix(1, 0), [3]byte{0x04, 0x00, 0x00}},
		{time.Unix(0, 500_000_000), [3]byte{0x02, 0x00, 0x00}},
		{time.Unix(0, 250_000_000), [3]byte{0x01, 0x00, 0x00}},
		{time.Unix(63, 0), [3]byte{0xfc, 0x00, 0x00}},
		{time.Unix(63, 999_999_999), [3]byte{0xff, 0xff, 0xff}},
		{time.Unix(64, 0), [3]byte{0x00, 0x00, 0x00}},
		{time.Unix(1_700_000_000+5, 3_814), [3]byte{0x14, 0x00, 0x00}}, // 1.7e9 = 64*26562500
		{time.Unix(0, 3_815), [3]byte{0x00, 0x00, 0x01}},               // one tick is 2^-18 s ≈ 3.815 µs
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), [3]byte{0xfc, 0x00, 0x00}},
	} {
		if got := AbsSendTime(tc.t); got != tc.want {
			t.Errorf("AbsSendTime(%v) = % x, want % x", tc.t, got, tc.want)
		}
	}
}
