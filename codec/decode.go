package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Format is the encoding of one datagram or request body.
type Format uint8

// The encodings of wire protocol v1.
const (
	JSON Format = iota + 1
	Msgpack
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case Msgpack:
		return "msgpack"
	}
	return "unknown"
}

// ErrUnknownFormat means the first byte is neither JSON's `{`/`[` nor a
// msgpack map or array header.
var ErrUnknownFormat = errors.New("not a JSON or msgpack object or array")

// Sniff tells the encoding from the first significant byte.
func Sniff(b []byte) (Format, error) {
	for _, c := range b {
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '{' || c == '[':
			return JSON, nil
		case c >= 0x80 && c <= 0x9f, c == 0xdc, c == 0xdd, c == 0xde, c == 0xdf:
			// fixmap, fixarray, array16/32, map16/32
			return Msgpack, nil
		}
		return 0, ErrUnknownFormat
	}
	return 0, ErrUnknownFormat
}

// Decode decodes one value, an object or an array of objects, and returns
// its elements. An element that is not an object is returned as is, so the
// caller can name its index as invalid.
func Decode(b []byte, f Format) ([]any, error) {
	var v any
	var err error
	switch f {
	case JSON:
		v, err = decodeJSON(b)
	case Msgpack:
		v, err = decodeMsgpackValue(b)
	default:
		return nil, ErrUnknownFormat
	}
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case map[string]any:
		return []any{v}, nil
	case []any:
		return v, nil
	}
	return nil, ErrUnknownFormat
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: data after the value")
	}
	return v, nil
}
