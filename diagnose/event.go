package diagnose

// Levels of a finding. Errors damaged the media a viewer sees; warnings are
// anomalies that may or may not have; info findings are facts worth knowing
// in a post-mortem (a resolution change, DTX) and never decide the verdict.
const (
	Error   = "error"
	Warning = "warning"
	Info    = "info"
)

// Leg names as they appear in findings.
const (
	ingestLeg = "ingest"
	viewerLeg = "viewer"
)

// class describes one anomaly class: its default level, how bad it is
// against the others (for "worst first") and whether a viewer-leg instance
// can have been inherited from the ingest leg at all.
type class struct {
	level    string
	severity int
	// local classes belong to one leg's negotiation or to the hop itself
	// (payload types, extension IDs, rewritten bytes): the streamer cannot
	// have caused them on the viewer leg.
	local bool
}

// classes lists every finding class by its JSON name.
var classes = map[string]class{
	"no-keyframe":              {Error, 95, false},
	"payload-modified":         {Error, 92, true},
	"frozen-after-loss":        {Error, 90, false},
	"loss":                     {Error, 85, false},
	"freeze":                   {Error, 80, false},
	"rotation":                 {Error, 76, true},
	"extension-malformed":      {Error, 74, true},
	"extension-not-negotiated": {Error, 72, true},
	"unknown-payload-type":     {Error, 70, true},
	"frame-boundary":           {Error, 66, false},
	"h264-fu-a":                {Error, 65, false},
	"h264-stap-a":              {Error, 64, false},
	"malformed-payload":        {Error, 63, false},
	"header-modified":          {Error, 60, true},
	"ssrc-change":              {Warning, 55, false},
	"sequence-discontinuity":   {Warning, 53, false},
	"timestamp-jump":           {Warning, 51, false},
	"timestamp-backwards":      {Warning, 50, false},
	"pli-storm":                {Warning, 46, false},
	"nack-storm":               {Warning, 45, false},
	"keyframe-interval":        {Warning, 40, false},
	"jitter":                   {Warning, 35, false},
	"reordering":               {Warning, 30, false},
	"duplicates":               {Warning, 25, false},
	"resolution-change":        {Info, 10, false},
	"parameter-set-change":     {Info, 9, false},
	"legs-not-aligned":         {Info, 8, true},
	"dtx":                      {Info, 5, false},
}

// event is one anomaly at one place of one stream; findings aggregate them.
type event struct {
	class    string
	s        *stream // nil for leg-wide events
	lo, hi   int64   // extended sequence numbers it spans; hi < lo when it has no position
	from, to int64   // Unix ns
	n        int64   // how many (packets, requests, ...)
	detail   string  // packet-level evidence
	level    string  // overrides the class level when set
	side     string  // set by attribution
	// in is set on viewer-leg loss the ingest leg has: the same packets in
	// ingest numbering.
	in   bool
	inLo int64
	inHi int64
	// nacked lists the extended numbers a NACK storm asked for.
	nacked []int64
}

func (e *event) positional() bool { return e.s != nil && e.lo <= e.hi }

func (e *event) levelOf() string {
	if e.level != "" {
		return e.level
	}
	return classes[e.class].level
}

// maxEvents bounds the events kept per class and stream (loss excepted):
// a capture with every packet duplicated must not hold one event per packet.
// Beyond it, events fold into the last one.
const maxEvents = 2048

type eventKey struct {
	class string
	s     *stream
}

// emit records an event. Consecutive events of one class that touch
// (duplicates of packets in a row, ...) become one, as do all events beyond
// maxEvents.
func (l *leg) emit(e event) {
	if l.lastEvent == nil {
		l.lastEvent = map[eventKey]int{}
		l.eventCount = map[eventKey]int{}
	}
	k := eventKey{e.class, e.s}
	if i, ok := l.lastEvent[k]; ok && e.class != "loss" {
		last := &l.events[i]
		adjacent := e.positional() && last.positional() && e.lo == last.hi+1 && e.level == last.level
		if adjacent || l.eventCount[k] >= maxEvents {
			last.hi = max(last.hi, e.hi)
			last.to = max(last.to, e.to)
			last.n += e.n
			return
		}
	}
	l.eventCount[k]++
	l.lastEvent[k] = len(l.events)
	l.events = append(l.events, e)
}
