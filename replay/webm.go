package replay

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/bcastdev/bcast/codec"
)

// WebM layout. Timestamps are in milliseconds (TimestampScale 1000000 ns).
const (
	webmTimestampScale = 1_000_000
	// clusterSpan starts a new Cluster when no video key frame did for
	// this long (ms): players seek to cluster starts, and SimpleBlock
	// timestamps are int16 offsets from their cluster's.
	clusterSpan   = 5000
	seekHeadSpace = 96 // bytes reserved for the SeekHead
	durationSpace = 11 // the Duration element: 2-byte ID, size, float64
	// maxWaiting bounds the audio held back for the first video frame
	// (about 20 minutes of 20 ms packets); past it the video is given up.
	maxWaiting = 1 << 16
)

// webmWriter writes WebM (Matroska with DocType webm, RFC 9559): EBML
// header, a Segment of unknown size with room reserved for a SeekHead,
// Info (room reserved for Duration), Tracks, then Clusters of
// SimpleBlocks. Clusters are written with unknown size and start at each
// video key frame (or every clusterSpan), so a file cut anywhere plays up
// to the cut. When the file is seekable, close adds Cues (one per cluster
// a player can start decoding at) and patches the cluster and segment
// sizes, the SeekHead and the Duration.
//
// Tracks needs the video's dimensions (and for AV1 its sequence header),
// which only the first video frame gives: until it arrives, audio frames
// wait in memory.
type webmWriter struct {
	o            *outFile
	video, audio *trackSpec
	videoNum     uint64 // track numbers; 0 when the track is absent
	audioNum     uint64
	header       bool
	waiting      []webmFrame

	segStart    int64 // offset of the Segment's data
	segSizeOff  int64
	durationOff int64
	infoPos     int64 // relative to segStart
	tracksPos   int64

	clusterOpen    bool
	clusterTS      int64
	clusterSizeOff int64
	clusterBlocks  int

	cues      []webmCue
	end       time.Duration
	lastVideo time.Duration
	videoStep time.Duration
	anyVideo  bool
}

type webmFrame struct {
	pts time.Duration
	it  *item
}

type webmCue struct {
	ms    int64
	track uint64
	pos   int64 // of the Cluster, relative to segStart
}

func newWebMWriter(o *outFile, video, audio *trackSpec) *webmWriter {
	return &webmWriter{o: o, video: video, audio: audio}
}

func (w *webmWriter) write(pts time.Duration, it *item) error {
	if !w.header {
		switch {
		case it.video:
			if err := w.start(it); err != nil {
				return err
			}
		case w.video != nil && len(w.waiting) < maxWaiting:
			w.waiting = append(w.waiting, webmFrame{pts, it})
			return nil
		default:
			if err := w.start(nil); err != nil {
				return err
			}
		}
	}
	return w.block(pts, it)
}

// start writes the header, then the audio that waited for it.
func (w *webmWriter) start(firstVideo *item) error {
	if err := w.writeHeader(firstVideo); err != nil {
		return err
	}
	waiting := w.waiting
	w.waiting = nil
	for _, f := range waiting {
		if err := w.block(f.pts, f.it); err != nil {
			return err
		}
	}
	return nil
}

// writeHeader writes everything before the first Cluster. firstVideo is
// nil when the output has no video after all.
func (w *webmWriter) writeHeader(firstVideo *item) error {
	w.header = true
	var h []byte
	h = appendUint(h, idEBMLVersion, 1)
	h = appendUint(h, idEBMLReadVersion, 1)
	h = appendUint(h, idEBMLMaxIDLength, 4)
	h = appendUint(h, idEBMLMaxSizeLength, 8)
	h = appendString(h, idDocType, "webm")
	h = appendUint(h, idDocTypeVersion, 4)
	h = appendUint(h, idDocTypeReadVersion, 2)
	b := appendElement(nil, idEBML, h)

	b = appendID(b, idSegment)
	w.segSizeOff = w.o.n + int64(len(b))
	b = append(b, unknownSize...)
	w.segStart = w.o.n + int64(len(b))
	b = appendVoid(b, seekHeadSpace)

	var info []byte
	info = appendUint(info, idTimestampScale, webmTimestampScale)
	info = appendString(info, idMuxingApp, "bcast")
	info = appendString(info, idWritingApp, "bcast")
	voidAt := len(info)
	info = appendVoid(info, durationSpace)
	w.infoPos = w.o.n + int64(len(b)) - w.segStart
	b = appendSize(appendID(b, idInfo), uint64(len(info)))
	w.durationOff = w.o.n + int64(len(b)) + int64(voidAt)
	b = append(b, info...)

	var tracks []byte
	n := uint64(0)
	if firstVideo != nil && w.video != nil {
		n++
		w.videoNum = n
		tracks = append(tracks, w.videoTrack(n, firstVideo)...)
	}
	if w.audio != nil {
		n++
		w.audioNum = n
		tracks = append(tracks, w.audioTrack(n)...)
	}
	w.tracksPos = w.o.n + int64(len(b)) - w.segStart
	b = appendElement(b, idTracks, tracks)
	_, err := w.o.Write(b)
	return err
}

func trackUID(id uint32, n uint64) uint64 { return n<<32 | uint64(id) }

// videoTrack is the TrackEntry of the video (Matroska codec mappings
// V_VP8, V_VP9, V_AV1; AV1 carries its av1C record as CodecPrivate).
func (w *webmWriter) videoTrack(n uint64, first *item) []byte {
	var e []byte
	e = appendUint(e, idTrackNumber, n)
	e = appendUint(e, idTrackUID, trackUID(w.video.id, n))
	e = appendUint(e, idTrackType, 1)
	e = appendUint(e, idFlagLacing, 0)
	switch w.video.codec {
	case codec.VP8:
		e = appendString(e, idCodecID, "V_VP8")
	case codec.VP9:
		e = appendString(e, idCodecID, "V_VP9")
	case codec.AV1:
		e = appendString(e, idCodecID, "V_AV1")
		if rec, err := av1Config(first.data); err == nil {
			e = appendElement(e, idCodecPrivate, rec)
		}
	}
	var v []byte
	v = appendUint(v, idPixelWidth, uint64(first.width))
	v = appendUint(v, idPixelHeight, uint64(first.height))
	e = appendElement(e, idVideo, v)
	return appendElement(nil, idTrackEntry, e)
}

// audioTrack is the TrackEntry of the Opus audio (Matroska A_OPUS:
// CodecPrivate is the OpusHead, CodecDelay the pre-skip in ns, SeekPreRoll
// 80 ms as RFC 7845 §4.6 recommends for seeking).
func (w *webmWriter) audioTrack(n uint64) []byte {
	head := opusHead(w.audio.channels)
	var e []byte
	e = appendUint(e, idTrackNumber, n)
	e = appendUint(e, idTrackUID, trackUID(w.audio.id, n))
	e = appendUint(e, idTrackType, 2)
	e = appendUint(e, idFlagLacing, 0)
	e = appendString(e, idCodecID, "A_OPUS")
	e = appendElement(e, idCodecPrivate, head)
	e = appendUint(e, idCodecDelay, uint64(opusPreSkip*time.Second/opusSampleRate))
	e = appendUint(e, idSeekPreRoll, uint64(opusSeekPreRoll))
	var a []byte
	a = appendFloat(a, idSamplingFrequency, opusSampleRate)
	a = appendUint(a, idChannels, uint64(head[9]))
	e = appendElement(e, idAudio, a)
	return appendElement(nil, idTrackEntry, e)
}

// block writes one SimpleBlock (RFC 9559 SimpleBlock: track number as a
// variable-size integer, int16 timestamp relative to the cluster, flags
// with the keyframe bit, the frame), opening a cluster when needed.
func (w *webmWriter) block(pts time.Duration, it *item) error {
	track := w.audioNum
	if it.video {
		track = w.videoNum
	}
	if track == 0 {
		return nil
	}
	ms := int64((pts + time.Millisecond/2) / time.Millisecond)
	rel := ms - w.clusterTS
	if !w.clusterOpen || it.video && it.key && w.clusterBlocks > 0 ||
		rel >= clusterSpan || rel < math.MinInt16 {
		if err := w.openCluster(ms, it, track); err != nil {
			return err
		}
		rel = 0
	}
	b := appendSize(appendID(make([]byte, 0, 16), idSimpleBlock), uint64(4+len(it.data)))
	b = appendSize(b, track)
	b = binary.BigEndian.AppendUint16(b, uint16(int16(rel)))
	flags := byte(0)
	if it.key || !it.video {
		flags |= 0x80 // every Opus packet can be decoded on its own
	}
	b = append(b, flags)
	if _, err := w.o.Write(b); err != nil {
		return err
	}
	if _, err := w.o.Write(it.data); err != nil {
		return err
	}
	w.clusterBlocks++
	end := pts + it.dur
	if it.video {
		if w.anyVideo && pts > w.lastVideo {
			w.videoStep = pts - w.lastVideo
		}
		w.lastVideo, w.anyVideo = pts, true
		end = pts + w.videoStep
	}
	w.end = max(w.end, end)
	return nil
}

func (w *webmWriter) openCluster(ms int64, it *item, track uint64) error {
	if err := w.closeCluster(); err != nil {
		return err
	}
	off := w.o.n
	if it.video && it.key || w.videoNum == 0 {
		w.cues = append(w.cues, webmCue{ms: ms, track: track, pos: off - w.segStart})
	}
	b := appendID(nil, idCluster)
	w.clusterSizeOff = off + int64(len(b))
	b = append(b, unknownSize...)
	b = appendUint(b, idTimestamp, uint64(max(ms, 0)))
	w.clusterOpen, w.clusterTS, w.clusterBlocks = true, max(ms, 0), 0
	_, err := w.o.Write(b)
	return err
}

// closeCluster patches the size of the open cluster when the file is
// seekable; otherwise it stays unknown, which is valid.
func (w *webmWriter) closeCluster() error {
	if !w.clusterOpen {
		return nil
	}
	w.clusterOpen = false
	return w.o.patch(w.clusterSizeOff, size8(uint64(w.o.n-w.clusterSizeOff-8)))
}

func (w *webmWriter) close() error {
	err := w.finish()
	if cerr := w.o.close(); err == nil {
		err = cerr
	}
	return err
}

func (w *webmWriter) finish() error {
	if !w.header {
		if err := w.start(nil); err != nil {
			return err
		}
	}
	if err := w.closeCluster(); err != nil {
		return err
	}
	if !w.o.seekable {
		return nil
	}
	var seeks []byte
	seek := func(id uint32, pos int64) {
		var s []byte
		s = appendElement(s, idSeekID, appendID(nil, id))
		s = appendUint(s, idSeekPosition, uint64(pos))
		seeks = appendElement(seeks, idSeek, s)
	}
	seek(idInfo, w.infoPos)
	seek(idTracks, w.tracksPos)
	if len(w.cues) > 0 {
		seek(idCues, w.o.n-w.segStart)
		var cues []byte
		for _, c := range w.cues {
			var pos []byte
			pos = appendUint(pos, idCueTrack, c.track)
			pos = appendUint(pos, idCueClusterPosition, uint64(c.pos))
			var p []byte
			p = appendUint(p, idCueTime, uint64(max(c.ms, 0)))
			p = appendElement(p, idCueTrackPositions, pos)
			cues = appendElement(cues, idCuePoint, p)
		}
		if _, err := w.o.Write(appendElement(nil, idCues, cues)); err != nil {
			return err
		}
	}
	sh := appendElement(nil, idSeekHead, seeks)
	sh = appendVoid(sh, seekHeadSpace-len(sh))
	if err := w.o.patch(w.segStart, sh); err != nil {
		return err
	}
	ms := float64(w.end) / float64(time.Millisecond)
	if err := w.o.patch(w.durationOff, appendFloat(nil, idDuration, ms)); err != nil {
		return err
	}
	return w.o.patch(w.segSizeOff, size8(uint64(w.o.n-w.segStart)))
}
