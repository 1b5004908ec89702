package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// msgpackTimestamp is the extension type msgpack reserves for timestamps.
const msgpackTimestamp = -1

var errMsgpackKey = errors.New("msgpack: map key is not a string")

// mpDecoder turns one msgpack value, already checked whole by scanMsgpack,
// into the values encoding/json's any would hold: map[string]any, []any,
// string, bool, nil, numbers (int64, uint64 above MaxInt64, float32,
// float64), []byte for bin and time.Time for the timestamp extension.
//
// It exists for the datagram intake's hot path. Every key and string value
// is a substring of one copy of the datagram, so a 1 KB trace costs one
// string allocation plus the boxing of its values, instead of one per
// string; the events decoded from a datagram share that copy until they
// are written, and the datagram size cap bounds it.
type mpDecoder struct {
	s string // the whole datagram
	i int
}

func decodeMsgpackValue(b []byte) (any, error) {
	if err := scanMsgpack(b); err != nil {
		return nil, err
	}
	d := mpDecoder{s: string(b)}
	return d.value()
}

// The scan has bounded every length and the nesting depth, so the reads
// below cannot run past the end; n checks anyway, so that a scan bug is an
// error, not a panic.
func (d *mpDecoder) n(k int) (string, error) {
	if k < 0 || k > len(d.s)-d.i {
		return "", errMsgpackShort
	}
	s := d.s[d.i : d.i+k]
	d.i += k
	return s, nil
}

func (d *mpDecoder) uint(size int) (uint64, error) {
	s, err := d.n(size)
	if err != nil {
		return 0, err
	}
	var u uint64
	for j := range size {
		u = u<<8 | uint64(s[j])
	}
	return u, nil
}

func (d *mpDecoder) value() (any, error) {
	if d.i >= len(d.s) {
		return nil, errMsgpackShort
	}
	c := d.s[d.i]
	d.i++
	if s, ok, err := d.str(c); ok {
		return s, err
	}
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c <= 0x8f:
		return d.mapOf(int(c & 0x0f))
	case c <= 0x9f:
		return d.arrayOf(int(c & 0x0f))
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6: // bin8/16/32
		k, err := d.uint(1 << (c - 0xc4))
		if err != nil {
			return nil, err
		}
		s, err := d.n(int(k))
		return []byte(s), err
	case 0xca:
		u, err := d.uint(4)
		return math.Float32frombits(uint32(u)), err
	case 0xcb:
		u, err := d.uint(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf: // uint8..64
		u, err := d.uint(1 << (c - 0xcc))
		if u > math.MaxInt64 {
			return u, err
		}
		return int64(u), err
	case 0xd0, 0xd1, 0xd2, 0xd3: // int8..64
		size := 1 << (c - 0xd0)
		u, err := d.uint(size)
		shift := 64 - 8*size
		return int64(u<<shift) >> shift, err // sign-extend
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1..16
		return d.ext(1 << (c - 0xd4))
	case 0xc7, 0xc8, 0xc9: // ext8/16/32
		k, err := d.uint(1 << (c - 0xc7))
		if err != nil {
			return nil, err
		}
		return d.ext(int(k))
	case 0xdc, 0xdd: // array16/32
		k, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.arrayOf(int(k))
	case 0xde, 0xdf: // map16/32
		k, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(int(k))
	}
	return nil, errMsgpackCode
}

func (d *mpDecoder) mapOf(k int) (any, error) {
	m := make(map[string]any, k)
	for range k {
		ks, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
	return m, nil
}

// key reads a map key, which must be a string. It is not boxed in an any
// as value would box it: keys are most of the strings of an event.
func (d *mpDecoder) key() (string, error) {
	if d.i >= len(d.s) {
		return "", errMsgpackShort
	}
	c := d.s[d.i]
	d.i++
	s, ok, err := d.str(c)
	if !ok {
		return "", errMsgpackKey
	}
	return s, err
}

// str reads the string whose code c was just read, and says whether c is
// a string code (fixstr, str8/16/32) at all.
func (d *mpDecoder) str(c byte) (s string, ok bool, err error) {
	switch {
	case c >= 0xa0 && c <= 0xbf:
		s, err = d.n(int(c & 0x1f))
		return validUTF8(s), true, err
	case c >= 0xd9 && c <= 0xdb:
		k, err := d.uint(1 << (c - 0xd9))
		if err != nil {
			return "", true, err
		}
		s, err = d.n(int(k))
		return validUTF8(s), true, err
	}
	return "", false, nil
}

// validUTF8 replaces each byte of s that is not part of a valid UTF-8
// sequence with U+FFFD, as encoding/json does with a JSON string, so an
// event is stored the same whichever encoding carried it. A valid s, the
// usual case, is returned as is.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func (d *mpDecoder) arrayOf(k int) (any, error) {
	a := make([]any, k)
	for j := range a {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a[j] = v
	}
	return a, nil
}

// ext decodes the timestamp extension, the only one the protocol knows.
func (d *mpDecoder) ext(size int) (any, error) {
	t, err := d.n(1)
	if err != nil {
		return nil, err
	}
	data, err := d.n(size)
	if err != nil {
		return nil, err
	}
	if typ := int8(t[0]); typ != msgpackTimestamp {
		return nil, fmt.Errorf("msgpack: unknown extension type %d", typ)
	}
	b := []byte(data)
	switch size {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0).UTC(), nil
	case 8:
		v := binary.BigEndian.Uint64(b)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)).UTC(), nil
	case 12:
		return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b))).UTC(), nil
	}
	return nil, fmt.Errorf("msgpack: timestamp of %d bytes", size)
}
