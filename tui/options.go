package tui

import "time"

// DefaultInterval is how often the console asks for a snapshot unless
// Options.Interval says otherwise: fast enough that a kick or a join shows
// within a glance, slow enough to cost the server nothing measurable.
const DefaultInterval = 250 * time.Millisecond

// Options configure a console.
type Options struct {
	// ReadOnly hides every action (bcast console --readonly): the keys do
	// nothing and the help does not list them.
	ReadOnly bool
	// Title names what the console is attached to, e.g. "bcast serve :8080"
	// or the remote URL.
	Title string
	// Interval is the snapshot poll period; 0 means DefaultInterval.
	Interval time.Duration
	// NoColor renders without colours whatever the terminal supports (a
	// --no-color flag). NO_COLOR in the environment has the same effect
	// without this, and 16-colour terminals get the basic palette.
	NoColor bool
	// About lines head the full help (?): where the server is reached
	// (player, WHIP and WHEP URLs, tokens), which the console would
	// otherwise hide behind its full screen once it opens.
	About []string
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Title == "" {
		o.Title = "bcast"
	}
	return o
}
