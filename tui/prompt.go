package tui

import (
	"github.com/bcastdev/bcast/server/status"
)

// promptKind is what the footer is asking for.
type promptKind int

const (
	promptNone    promptKind = iota
	promptInput              // a line of text: filter, limit, duration
	promptConfirm            // y to go ahead, anything else to cancel
)

// inputPurpose says what a typed line becomes.
type inputPurpose int

const (
	inputFilter  inputPurpose = iota // the viewers filter, applied as it is typed
	inputLimit                       // the viewer limit
	inputBan                         // a ban's duration
	inputTimeout                     // a timeout's duration
	inputSlow                        // slow mode's interval
)

// prompt is the pending interaction in the footer. Actions that need a
// value go through an input first, destructive ones through a confirmation;
// the action is built up in the prompt so that what is confirmed is exactly
// what runs.
type prompt struct {
	kind     promptKind
	purpose  inputPurpose
	input    lineInput
	question string
	err      string // why the last entered value was refused

	action  status.Action // the action to run when the prompt completes
	subject string        // who or what it acts on, for the texts
	quit    bool          // the confirmation is for quitting
}

func (p *prompt) active() bool { return p.kind != promptNone }

func (p *prompt) close() { *p = prompt{} }

// ask opens an input prompt for an action still missing its value.
func (p *prompt) ask(purpose inputPurpose, label string, a status.Action, subject string) {
	*p = prompt{kind: promptInput, purpose: purpose, input: lineInput{label: label}, action: a, subject: subject}
}

// confirm opens a y/N question for an action, or for quitting.
func (p *prompt) confirm(question string, a status.Action, subject string, quit bool) {
	*p = prompt{kind: promptConfirm, question: question, action: a, subject: subject, quit: quit}
}

// view renders the prompt line.
func (p *prompt) view(st *styles, width int) string {
	switch p.kind {
	case promptInput:
		line := p.input.view(st, width)
		if p.err != "" {
			line += "  " + st.Bad.Render(p.err)
		}
		return fit(line, width)
	case promptConfirm:
		return fit(st.Confirm.Render(p.question+" [y/N]"), width)
	}
	return ""
}
