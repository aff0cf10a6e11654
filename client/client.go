// Package client is the WHIP/WHEP client side (RFC 9725 and the WHEP
// draft): it signals a pion PeerConnection to a server and ends the session
// with DELETE. `bcast publish`, `bcast watch`, the load tester and the tests
// build their PeerConnections and use this package for the HTTP exchange.
package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// Session is an established WHIP or WHEP session.
type Session struct {
	// Location is the absolute URL of the session resource.
	Location string
	// Answer is the server's SDP answer.
	Answer string
	token  string
	http   *http.Client
}

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	Code       int
	Reason     string        // the body's first line
	RetryAfter time.Duration // from Retry-After on 503, 0 when absent
}

func (e *StatusError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("server answered %d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("server answered %d: %s", e.Code, e.Reason)
}

// ErrGatherTimeout is returned when ICE gathering does not finish in time.
var ErrGatherTimeout = errors.New("ICE gathering did not complete")

// Signal creates the offer on pc, waits for ICE gathering (no trickle),
// POSTs it to endpoint with an optional bearer token and applies the answer.
func Signal(ctx context.Context, hc *http.Client, endpoint, token string, pc *webrtc.PeerConnection) (*Session, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return nil, fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrGatherTimeout, ctx.Err())
	}
	sess, err := Post(ctx, hc, endpoint, token, pc.LocalDescription().SDP)
	if err != nil {
		return nil, err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sess.Answer}); err != nil {
		_ = sess.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("set remote description: %w", err)
	}
	return sess, nil
}

// Post sends an SDP offer and returns the session; non-201 answers become
// *StatusError.
func Post(ctx context.Context, hc *http.Client, endpoint, token, offer string) (*Session, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated {
		return nil, statusError(resp, body)
	}
	loc, err := resolve(endpoint, resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	return &Session{Location: loc, Answer: string(body), token: token, http: hc}, nil
}

func statusError(resp *http.Response, body []byte) *StatusError {
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	e := &StatusError{Code: resp.StatusCode, Reason: line}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func resolve(endpoint, location string) (string, error) {
	if location == "" {
		return "", errors.New("server answered 201 without a Location header")
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("endpoint: %w", err)
	}
	ref, err := url.Parse(location)
	if err != nil {
		return "", fmt.Errorf("location %q: %w", location, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// Close ends the session with DELETE on its Location.
func (s *Session) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.Location, nil)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("DELETE %s: %w", s.Location, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return statusError(resp, bytes.TrimSpace(body))
	}
	return nil
}
