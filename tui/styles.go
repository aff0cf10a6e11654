package tui

import (
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
)

// styles is every look the console uses, built once per colour profile and
// background. Components share one *styles and never modify it, so a model
// copied by value still points at a consistent set.
//
// Colours are the 16 basic ANSI ones: they follow the operator's terminal
// theme, survive 16-colour terminals and tmux, and keep green/yellow/red
// meaning ok/warn/bad everywhere. Without colour (NO_COLOR, a dumb terminal)
// health falls back to attributes, and every state that matters is also
// spelled out in text or marked with a glyph so nothing depends on colour.
type styles struct {
	TitleBar lipgloss.Style // the top line
	Title    lipgloss.Style // the console's title within it
	Muted    lipgloss.Style // labels, units, separators
	Strong   lipgloss.Style // values worth reading first

	OK   lipgloss.Style
	Warn lipgloss.Style
	Bad  lipgloss.Style

	Live    lipgloss.Style
	Offline lipgloss.Style

	PaneTitle        lipgloss.Style
	PaneTitleFocused lipgloss.Style
	Rule             lipgloss.Style
	RuleFocused      lipgloss.Style
	TableHeader      lipgloss.Style
	Selected         lipgloss.Style // the cursor row in the focused pane
	SelectedBlurred  lipgloss.Style // the cursor row elsewhere

	SparkVideo lipgloss.Style
	SparkAudio lipgloss.Style
	SparkOut   lipgloss.Style

	Nick  lipgloss.Style
	Admin lipgloss.Style

	Prompt  lipgloss.Style
	Confirm lipgloss.Style
	Cursor  lipgloss.Style
	Input   lipgloss.Style

	HelpKey   lipgloss.Style
	HelpDesc  lipgloss.Style
	HelpSep   lipgloss.Style
	HelpTitle lipgloss.Style

	// CursorGlyph draws the prompt's cursor: a reversed space where the
	// terminal shows attributes, an underscore where it shows none.
	CursorGlyph string
}

// newStyles builds the styles for a colour profile (as detected by Bubble
// Tea, which honours NO_COLOR) and a background brightness.
func newStyles(p colorprofile.Profile, dark bool) *styles {
	s := lipgloss.NewStyle
	switch {
	case p <= colorprofile.NoTTY:
		// Plain text: no escape sequences at all.
		return &styles{CursorGlyph: "_"}
	case p == colorprofile.ASCII:
		// Attributes only: bold, faint, underline, reverse.
		return &styles{
			TitleBar:         s().Reverse(true),
			Title:            s().Reverse(true).Bold(true),
			Muted:            s().Faint(true),
			Strong:           s().Bold(true),
			Warn:             s().Bold(true),
			Bad:              s().Bold(true).Underline(true),
			Live:             s().Bold(true),
			Offline:          s().Bold(true).Underline(true),
			PaneTitle:        s().Bold(true),
			PaneTitleFocused: s().Bold(true).Reverse(true),
			Rule:             s().Faint(true),
			TableHeader:      s().Underline(true),
			Selected:         s().Reverse(true),
			SelectedBlurred:  s().Bold(true),
			Admin:            s().Bold(true),
			Prompt:           s().Bold(true),
			Confirm:          s().Bold(true).Reverse(true),
			Cursor:           s().Reverse(true),
			HelpKey:          s().Bold(true),
			HelpSep:          s().Faint(true),
			HelpTitle:        s().Bold(true).Underline(true),
			CursorGlyph:      " ",
		}
	}

	ld := lipgloss.LightDark(dark)
	muted := ld(lipgloss.BrightBlack, lipgloss.BrightBlack)
	accent := ld(lipgloss.Blue, lipgloss.Cyan)
	text := ld(lipgloss.Black, lipgloss.BrightWhite)
	return &styles{
		TitleBar:         s().Background(lipgloss.Blue).Foreground(lipgloss.BrightWhite),
		Title:            s().Background(lipgloss.Blue).Foreground(lipgloss.BrightWhite).Bold(true),
		Muted:            s().Foreground(muted),
		Strong:           s().Foreground(text).Bold(true),
		OK:               s().Foreground(lipgloss.Green),
		Warn:             s().Foreground(lipgloss.Yellow),
		Bad:              s().Foreground(lipgloss.Red).Bold(true),
		Live:             s().Foreground(lipgloss.Green).Bold(true),
		Offline:          s().Foreground(lipgloss.Red).Bold(true),
		PaneTitle:        s().Foreground(accent),
		PaneTitleFocused: s().Background(accent).Foreground(ld(lipgloss.BrightWhite, lipgloss.Black)).Bold(true),
		Rule:             s().Foreground(muted),
		RuleFocused:      s().Foreground(accent),
		TableHeader:      s().Foreground(accent).Bold(true),
		Selected:         s().Reverse(true),
		SelectedBlurred:  s().Bold(true),
		SparkVideo:       s().Foreground(lipgloss.Cyan),
		SparkAudio:       s().Foreground(lipgloss.Magenta),
		SparkOut:         s().Foreground(lipgloss.Blue),
		Nick:             s().Foreground(accent),
		Admin:            s().Foreground(lipgloss.Magenta).Bold(true),
		Prompt:           s().Foreground(accent).Bold(true),
		Confirm:          s().Foreground(lipgloss.Yellow).Bold(true),
		Cursor:           s().Reverse(true),
		Input:            s().Foreground(text),
		HelpKey:          s().Foreground(accent),
		HelpDesc:         s().Foreground(muted),
		HelpSep:          s().Foreground(muted),
		HelpTitle:        s().Foreground(accent).Bold(true),
		CursorGlyph:      " ",
	}
}

// health picks the ok, warn or bad style for a value against two
// thresholds, higher being worse.
func (st *styles) health(v, warn, bad float64) lipgloss.Style {
	switch {
	case v > bad:
		return st.Bad
	case v > warn:
		return st.Warn
	default:
		return st.OK
	}
}
