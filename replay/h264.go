package replay

import "time"

// h264Writer writes an H.264 Annex B byte stream: access units with start
// codes, parameter sets in band as the sender sent them (RFC 6184 §8.4).
type h264Writer struct {
	o *outFile
}

func (w *h264Writer) write(_ time.Duration, it *item) error {
	if !it.video {
		return nil
	}
	_, err := w.o.Write(it.data)
	return err
}

func (w *h264Writer) close() error { return w.o.close() }
