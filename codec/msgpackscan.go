package codec

import (
	"encoding/binary"
	"errors"
)

// maxMsgpackDepth bounds the nesting of msgpack containers, as
// encoding/json bounds JSON's (10000): the decoder recurses once per level.
const maxMsgpackDepth = 10000

var (
	errMsgpackShort = errors.New("msgpack: unexpected end of data")
	errMsgpackDeep  = errors.New("msgpack: nesting too deep")
	errMsgpackCode  = errors.New("msgpack: invalid code 0xc1")
)

// scanMsgpack walks one msgpack value without allocating per element, and
// fails unless it is whole and followed by nothing. The decoder trusts the
// element count of an array or map header and allocates for it up front:
// five bytes (0xdd ff ff ff ff) would make it allocate 64 GiB and kill the
// process. Once scanned, every count is bounded by the bytes that follow.
func scanMsgpack(b []byte) error {
	var stack []uint64 // values still expected by each enclosing container
	need := uint64(1)  // values still expected at the current level
	i := 0
	for {
		for need == 0 {
			if len(stack) == 0 {
				if i != len(b) {
					return errors.New("msgpack: data after the value")
				}
				return nil
			}
			need, stack = stack[len(stack)-1], stack[:len(stack)-1]
		}
		if i >= len(b) {
			return errMsgpackShort
		}
		c := b[i]
		i++
		need--
		lenBytes := 0      // size of the length field after c
		skip := uint64(0)  // payload bytes after c and its length field
		items := uint64(0) // values the container holds
		container := false
		switch {
		case c <= 0x7f || c >= 0xe0: // fixint
		case c <= 0x8f: // fixmap
			items, container = 2*uint64(c&0x0f), true
		case c <= 0x9f: // fixarray
			items, container = uint64(c&0x0f), true
		case c <= 0xbf: // fixstr
			skip = uint64(c & 0x1f)
		case c == 0xc0, c == 0xc2, c == 0xc3: // nil, false, true
		case c == 0xc1:
			return errMsgpackCode
		case c == 0xc4, c == 0xd9: // bin8, str8
			lenBytes = 1
		case c == 0xc5, c == 0xda: // bin16, str16
			lenBytes = 2
		case c == 0xc6, c == 0xdb: // bin32, str32
			lenBytes = 4
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8/16/32: length, type, data
			lenBytes, skip = 1<<(c-0xc7), 1
		case c == 0xca: // float32
			skip = 4
		case c == 0xcb: // float64
			skip = 8
		case c >= 0xcc && c <= 0xd3: // uint8..64, int8..64
			skip = 1 << ((c - 0xcc) % 4)
		case c >= 0xd4 && c <= 0xd8: // fixext 1..16: type, data
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc, c == 0xde: // array16, map16
			lenBytes, container = 2, true
		case c == 0xdd, c == 0xdf: // array32, map32
			lenBytes, container = 4, true
		}
		if lenBytes > 0 {
			if len(b)-i < lenBytes {
				return errMsgpackShort
			}
			var n uint64
			switch lenBytes {
			case 1:
				n = uint64(b[i])
			case 2:
				n = uint64(binary.BigEndian.Uint16(b[i:]))
			case 4:
				n = uint64(binary.BigEndian.Uint32(b[i:]))
			}
			i += lenBytes
			switch {
			case !container:
				skip += n
			case c == 0xde || c == 0xdf:
				items = 2 * n
			default:
				items = n
			}
		}
		// Every value takes at least one byte, so a container cannot hold
		// more values than bytes remain.
		if skip > uint64(len(b)-i) || items > uint64(len(b)-i) {
			return errMsgpackShort
		}
		i += int(skip)
		if container && items > 0 {
			if len(stack) >= maxMsgpackDepth {
				return errMsgpackDeep
			}
			stack = append(stack, need)
			need = items
		}
	}
}
