package otlp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// partialSuccess is the partial_success of an OTLP Export*ServiceResponse:
// how many items of an accepted request the receiver dropped, and why.
//
// It is decoded here, not with pdata's ptraceotlp/plogotlp/pmetricotlp
// ExportResponse: those packages import google.golang.org/grpc, which grew
// the static binary from 11.95 MB to 18.9 MB (measured with the .ci/run
// build), past the 15 MB limit; the three message types without them cost
// 0.8 MB. The three responses share one shape (field 1: a message whose
// field 1 is the int64 count and field 2 the message), and the tests check
// this decoder against pdata's own ExportResponse encoders, in both
// encodings.
type partialSuccess struct {
	Rejected int64
	Message  string
}

// decodePartialSuccess reads an answer body in the request's encoding. An
// empty body is a full success.
func decodePartialSuccess(answer []byte, isJSON bool) (partialSuccess, error) {
	if len(answer) == 0 {
		return partialSuccess{}, nil
	}
	if isJSON {
		return decodePartialJSON(answer)
	}
	return decodePartialProto(answer)
}

func decodePartialJSON(answer []byte) (partialSuccess, error) {
	var resp struct {
		PartialSuccess map[string]json.RawMessage `json:"partialSuccess"`
	}
	var ps partialSuccess
	if err := json.Unmarshal(answer, &resp); err != nil {
		return ps, err
	}
	for k, v := range resp.PartialSuccess {
		switch {
		case k == "errorMessage":
			if err := json.Unmarshal(v, &ps.Message); err != nil {
				return ps, err
			}
		case strings.HasPrefix(k, "rejected"):
			// proto3 JSON writes int64 as a string; accept a number too.
			n, err := strconv.ParseInt(strings.Trim(string(v), `"`), 10, 64)
			if err != nil {
				return ps, err
			}
			ps.Rejected = n
		}
	}
	return ps, nil
}

var errBadProto = errors.New("malformed protobuf answer")

func decodePartialProto(b []byte) (partialSuccess, error) {
	var ps partialSuccess
	return ps, eachField(b, func(num int, wire int, v uint64, data []byte) error {
		if num != 1 || wire != 2 {
			return nil // unknown fields are skipped, as protobuf says
		}
		return eachField(data, func(num int, wire int, v uint64, data []byte) error {
			switch {
			case num == 1 && wire == 0:
				ps.Rejected = int64(v)
			case num == 2 && wire == 2:
				ps.Message = string(data)
			}
			return nil
		})
	})
}

// eachField walks the fields of one protobuf message: varints (wire 0)
// arrive in v, length-delimited fields (wire 2) in data; fixed-size fields
// are skipped.
func eachField(b []byte, fn func(num, wire int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return errBadProto
		}
		b = b[n:]
		num, wire := int(key>>3), int(key&7)
		var v uint64
		var data []byte
		switch wire {
		case 0:
			if v, n = binary.Uvarint(b); n <= 0 {
				return errBadProto
			}
			b = b[n:]
		case 1, 5:
			size := map[int]int{1: 8, 5: 4}[wire]
			if len(b) < size {
				return errBadProto
			}
			b = b[size:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return errBadProto
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return errBadProto
		}
		if err := fn(num, wire, v, data); err != nil {
			return err
		}
	}
	return nil
}
