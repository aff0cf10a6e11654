package codec

import (
	"encoding/hex"
	"strings"
)

// hx decodes hex, ignoring spaces so that test vectors can be grouped by
// field.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// cat concatenates byte slices into a new one.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// be16 is a 16-bit big-endian length prefix.
func be16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

// bitWriter builds synthetic bitstreams for header parsers, MSB first.
type bitWriter struct {
	buf []byte
	n   uint // bits used in the last byte
}

func (w *bitWriter) u(v uint64, bits int) *bitWriter {
	for i := bits - 1; i >= 0; i-- {
		if w.n == 0 || w.n == 8 {
			w.buf = append(w.buf, 0)
			w.n = 0
		}
		if v>>uint(i)&1 == 1 {
			w.buf[len(w.buf)-1] |= 0x80 >> w.n
		}
		w.n++
	}
	return w
}

func (w *bitWriter) flag(b bool) *bitWriter {
	if b {
		return w.u(1, 1)
	}
	return w.u(0, 1)
}

// ue writes an unsigned Exp-Golomb code (H.264 §9.1).
func (w *bitWriter) ue(v uint64) *bitWriter {
	v++
	bits := 0
	for x := v; x > 1; x >>= 1 {
		bits++
	}
	w.u(0, bits)
	return w.u(v, bits+1)
}

// se writes a signed Exp-Golomb code (H.264 §9.1.1).
func (w *bitWriter) se(v int64) *bitWriter {
	if v > 0 {
		return w.ue(uint64(2*v - 1))
	}
	return w.ue(uint64(-2 * v))
}

// rbsp appends rbsp_trailing_bits (H.264 §7.3.2.11) and returns the bytes.
func (w *bitWriter) rbsp() []byte {
	w.u(1, 1)
	w.n = 8
	return w.buf
}

// bytes returns the written bits, zero-padded to a byte.
func (w *bitWriter) bytes() []byte { return w.buf }

// addEPB inserts H.264 emulation-prevention bytes (H.264 §7.4.1): after
// two zero bytes, any byte <= 3 is preceded by 0x03.
func addEPB(rbsp []byte) []byte {
	var out []byte
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}
