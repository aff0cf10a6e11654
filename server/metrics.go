package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/bcastdev/bcast/dump"
	"github.com/bcastdev/bcast/forward"
)

// metrics is the server's own Prometheus registry (not the global default,
// so tests and embedders can run several servers in one process).
type metrics struct {
	reg  *prometheus.Registry
	http *prometheus.CounterVec
	join prometheus.Histogram
	// The two halves of a joining viewer's wait for its picture.
	keyframeResponse prometheus.Histogram
	firstFrame       prometheus.Histogram
	viewers          *prometheus.GaugeVec
	joined           *prometheus.CounterVec
	refused          prometheus.Counter
	fds              prometheus.Gauge
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcast_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		join: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bcast_viewer_join_seconds",
			Help:    "Time from a viewer's WHEP POST to its connection being established.",
			Buckets: []float64{.05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10},
		}),
		keyframeResponse: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bcast_keyframe_response_seconds",
			Help:    "Time from a keyframe request (PLI) sent to the streamer to the keyframe's arrival.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, .75, 1, 2, 5},
		}),
		firstFrame: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bcast_viewer_first_frame_seconds",
			Help:    "Time from a viewer joining the fan-out (connected) to the keyframe that starts its picture being sent.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, .75, 1, 2, 5},
		}),
		viewers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bcast_viewers", Help: "Viewers per stream (connecting or connected).",
		}, []string{"stream"}),
		joined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcast_viewer_joins_total", Help: "Viewer sessions accepted per stream.",
		}, []string{"stream"}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bcast_viewers_refused_total", Help: "Viewers refused with 503 (viewer limit or file descriptors).",
		}),
		fds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bcast_open_fds", Help: "File descriptors in use by the process.",
		}),
	}
	m.reg.MustRegister(m.http, m.join, m.keyframeResponse, m.firstFrame, m.viewers, m.joined, m.refused, m.fds,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&streamCollector{s: s},
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "bcast_udp_datagrams_total", Help: "Datagrams the ICE sockets handed to the kernel.",
		}, func() float64 { return float64(s.tr.batch.Stats().Datagrams) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "bcast_udp_sends_total", Help: "System calls that carried them (fewer than datagrams with UDP GSO batching).",
		}, func() float64 { return float64(s.tr.batch.Stats().Sends) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "bcast_udp_gso", Help: "1 when the ICE sockets batch each viewer's packets with UDP GSO.",
		}, func() float64 {
			if s.tr.batch.Coalesces() {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "bcast_udp_send_errors_total", Help: "Datagrams the kernel refused.",
		}, func() float64 { return float64(s.tr.batch.Stats().Errors) }),
	)
	return m
}

func (m *metrics) viewerJoined(stream string) {
	m.viewers.WithLabelValues(stream).Inc()
	m.joined.WithLabelValues(stream).Inc()
}

// KeyframeResponse and FirstKeyframe make metrics a forward.Observer.
func (m *metrics) KeyframeResponse(d time.Duration) { m.keyframeResponse.Observe(d.Seconds()) }
func (m *metrics) FirstKeyframe(d time.Duration)    { m.firstFrame.Observe(d.Seconds()) }

func (m *metrics) viewerLeft(stream string) { m.viewers.WithLabelValues(stream).Dec() }

// streamCollector reads the fan-out's own counters at scrape time, so the
// media path pays nothing for metrics.
type streamCollector struct{ s *Server }

var (
	descIngestPackets = prometheus.NewDesc("bcast_ingest_packets_total", "RTP packets received from the streamer.", []string{"stream", "kind"}, nil)
	descIngestBytes   = prometheus.NewDesc("bcast_ingest_bytes_total", "RTP bytes received from the streamer.", []string{"stream", "kind"}, nil)
	descIngestLost    = prometheus.NewDesc("bcast_ingest_lost_packets", "Packets lost on the ingest leg of the current publisher (RFC 3550 A.3).", []string{"stream", "kind"}, nil)
	descIngestBitrate = prometheus.NewDesc("bcast_ingest_bitrate_bps", "Ingest bitrate over the last second.", []string{"stream", "kind"}, nil)
	descLive          = prometheus.NewDesc("bcast_stream_live", "1 when a publisher is connected.", []string{"stream"}, nil)
	descEgressPackets = prometheus.NewDesc("bcast_egress_packets_total", "RTP packets sent to viewers.", []string{"stream"}, nil)
	descEgressBytes   = prometheus.NewDesc("bcast_egress_bytes_total", "RTP payload bytes sent to viewers.", []string{"stream"}, nil)
	descNACKs         = prometheus.NewDesc("bcast_viewer_nacks_total", "Sequence numbers viewers asked to retransmit (current viewers).", []string{"stream"}, nil)
	descEgressDropped = prometheus.NewDesc("bcast_egress_dropped_total", "RTP packets to viewers the transport refused (current viewers).", []string{"stream"}, nil)
	descRetransmits   = prometheus.NewDesc("bcast_retransmits_total", "Packets retransmitted to viewers from the shared cache (current viewers).", []string{"stream"}, nil)
	descDumpPackets   = prometheus.NewDesc("bcast_dump_packets_total", "Packets written to the current publisher's dump.", []string{"stream"}, nil)
	descDumpDropped   = prometheus.NewDesc("bcast_dump_dropped_total", "Packets the current publisher's dump could not keep (queue full or write error).", []string{"stream", "reason"}, nil)
	descDumpBytes     = prometheus.NewDesc("bcast_dump_disk_bytes", "Bytes of dump segments under the dump directory.", nil, nil)
	descDumpFree      = prometheus.NewDesc("bcast_dump_free_bytes", "Free bytes on the dump directory's filesystem.", nil, nil)
	descDumpFailing   = prometheus.NewDesc("bcast_dump_failing", "1 when a stream's dump is failing (e.g. disk full); streaming continues.", []string{"stream"}, nil)
	descPLIRequested  = prometheus.NewDesc("bcast_keyframe_requests_total", "Keyframe requests (PLI/FIR) from viewers and joins, before coalescing.", []string{"stream", "kind"}, nil)
	descPLISent       = prometheus.NewDesc("bcast_keyframe_requests_sent_total", "Keyframe requests sent to the streamer after coalescing.", []string{"stream", "kind"}, nil)
)

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIngestPackets, descIngestBytes, descIngestLost, descIngestBitrate,
		descLive, descEgressPackets, descEgressBytes, descEgressDropped, descNACKs, descRetransmits,
		descDumpPackets, descDumpDropped, descDumpBytes, descDumpFree, descDumpFailing, descPLIRequested, descPLISent} {
		ch <- d
	}
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	list := c.s.streamList()
	if c.s.dumps != nil {
		ss := c.s.dumps.Stats()
		ch <- prometheus.MustNewConstMetric(descDumpBytes, prometheus.GaugeValue, float64(ss.Bytes))
		ch <- prometheus.MustNewConstMetric(descDumpFree, prometheus.GaugeValue, float64(ss.FreeBytes))
	}
	for _, st := range list {
		video, audio := st.fwd.Tracks()
		for _, t := range []struct {
			kind  string
			track *forward.Track
			meter *rateMeter
		}{{"video", video, &st.video}, {"audio", audio, &st.audio}} {
			if t.track == nil {
				continue
			}
			kind := t.kind
			s := t.track.Stats()
			ch <- prometheus.MustNewConstMetric(descIngestPackets, prometheus.CounterValue, float64(s.Packets), st.name, kind)
			ch <- prometheus.MustNewConstMetric(descIngestBytes, prometheus.CounterValue, float64(s.Bytes), st.name, kind)
			ch <- prometheus.MustNewConstMetric(descIngestLost, prometheus.GaugeValue, float64(s.Lost), st.name, kind)
			ch <- prometheus.MustNewConstMetric(descIngestBitrate, prometheus.GaugeValue, float64(t.meter.bps.Load()), st.name, kind)
			ch <- prometheus.MustNewConstMetric(descPLIRequested, prometheus.CounterValue, float64(s.KeyframesRequested), st.name, kind)
			ch <- prometheus.MustNewConstMetric(descPLISent, prometheus.CounterValue, float64(s.KeyframesSentUpstream), st.name, kind)
		}
		st.mu.Lock()
		live := 0.0
		if st.pub != nil {
			live = 1
		}
		packets, bytes := st.egressPackets, st.egressBytes
		var dw *dump.Writer
		if st.pub != nil {
			st.pub.mu.Lock()
			dw = st.pub.dump
			st.pub.mu.Unlock()
		}
		var nacks, retransmits, dropped uint64
		for _, v := range st.viewers {
			for _, d := range v.downTracks() {
				ds := d.Stats()
				packets += ds.Packets
				bytes += ds.Bytes
				nacks += ds.NACKs
				retransmits += ds.Retransmits
				dropped += ds.WriteErrors
			}
		}
		st.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(descLive, prometheus.GaugeValue, live, st.name)
		ch <- prometheus.MustNewConstMetric(descEgressPackets, prometheus.CounterValue, float64(packets), st.name)
		ch <- prometheus.MustNewConstMetric(descEgressBytes, prometheus.CounterValue, float64(bytes), st.name)
		ch <- prometheus.MustNewConstMetric(descNACKs, prometheus.CounterValue, float64(nacks), st.name)
		ch <- prometheus.MustNewConstMetric(descRetransmits, prometheus.CounterValue, float64(retransmits), st.name)
		ch <- prometheus.MustNewConstMetric(descEgressDropped, prometheus.CounterValue, float64(dropped), st.name)
		if dw != nil {
			ds := dw.Stats()
			failing := 0.0
			if ds.LastError != "" {
				failing = 1
			}
			ch <- prometheus.MustNewConstMetric(descDumpPackets, prometheus.CounterValue, float64(ds.Packets), st.name)
			ch <- prometheus.MustNewConstMetric(descDumpDropped, prometheus.CounterValue, float64(ds.DroppedQueue), st.name, "queue")
			ch <- prometheus.MustNewConstMetric(descDumpDropped, prometheus.CounterValue, float64(ds.DroppedError), st.name, "error")
			ch <- prometheus.MustNewConstMetric(descDumpFailing, prometheus.GaugeValue, failing, st.name)
		}
	}
}
