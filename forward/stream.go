package forward

import (
	"sync"

	"github.com/pion/webrtc/v4"
)

// Viewer is one viewer's pair of down tracks (either may be nil when the
// viewer did not offer that kind).
type Viewer struct {
	Video, Audio *DownTrack
}

func (v *Viewer) track(kind webrtc.RTPCodecType) *DownTrack {
	if kind == webrtc.RTPCodecTypeVideo {
		return v.Video
	}
	return v.Audio
}

// Stream routes the current ingest tracks of one named stream to its
// viewers. Viewers may join before the stream is live and stay through a
// streamer reconnect: SetTrack re-attaches all of them to the new tracks.
type Stream struct {
	mu      sync.Mutex
	video   *Track
	audio   *Track
	viewers map[*Viewer]struct{}
}

// NewStream returns a stream with no source and no viewers.
func NewStream() *Stream {
	return &Stream{viewers: make(map[*Viewer]struct{})}
}

// SetTrack makes t the stream's source for its kind (replacing a previous
// one, as when a streamer reconnects) and attaches every viewer to it.
func (s *Stream) SetTrack(t *Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		s.video = t
	} else {
		s.audio = t
	}
	for v := range s.viewers {
		if d := v.track(t.Kind()); d != nil {
			d.SetSource(t)
		}
	}
}

// RemoveTrack clears t if it is still the stream's source of its kind.
// Viewers stay attached to nothing and resume with the next SetTrack.
func (s *Stream) RemoveTrack(t *Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch t {
	case s.video:
		s.video = nil
	case s.audio:
		s.audio = nil
	default:
		return
	}
	for v := range s.viewers {
		if d := v.track(t.Kind()); d != nil {
			d.SetSource(nil)
		}
	}
	t.Close()
}

// Tracks returns the current sources (nil when absent).
func (s *Stream) Tracks() (video, audio *Track) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.video, s.audio
}

// AddViewer attaches v to the current sources.
func (s *Stream) AddViewer(v *Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.viewers[v] = struct{}{}
	if v.Video != nil && s.video != nil {
		v.Video.SetSource(s.video)
	}
	if v.Audio != nil && s.audio != nil {
		v.Audio.SetSource(s.audio)
	}
}

// RemoveViewer detaches v.
func (s *Stream) RemoveViewer(v *Viewer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.viewers, v)
	if v.Video != nil {
		v.Video.SetSource(nil)
	}
	if v.Audio != nil {
		v.Audio.SetSource(nil)
	}
}

// Viewers returns the number of viewers.
func (s *Stream) Viewers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.viewers)
}
