package view

import (
	"fmt"
	"strings"
)

// Dim is what calls can be grouped by.
type Dim uint8

// The dimensions. A model is its provider and model name.
const (
	DimModel Dim = iota
	DimProvider
	DimAgent
	DimChannel
	DimTrigger
	DimCron
	DimSession
	DimDay  // a date in the rollup zone
	DimHour // an hour of that zone's clock
	numDims
)

var dimNames = [numDims]string{"model", "provider", "agent", "channel", "trigger", "cron", "session", "day", "hour"}

func (d Dim) String() string {
	if d < numDims {
		return dimNames[d]
	}
	return "unknown"
}

// ParseDims reads a comma-separated list of dimension names
// ("agent,trigger"), each at most once.
func ParseDims(s string) ([]Dim, error) {
	var dims []Dim
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		d := Dim(0)
		for d < numDims && dimNames[d] != name {
			d++
		}
		if d == numDims {
			return nil, fmt.Errorf("unknown dimension %q: want %s", name, strings.Join(dimNames[:], ", "))
		}
		for _, e := range dims {
			if e == d {
				return nil, fmt.Errorf("dimension %q given twice", name)
			}
		}
		dims = append(dims, d)
	}
	return dims, nil
}

// part is one name a scan reads of each call.
type part uint8

const (
	pProvider part = iota
	pModel
	pAgent
	pChannel
	pTrigger
	pCron
	pSession
	numParts
)

// partColumns are the llm_traces columns of the parts; from agent on they
// are also the metadata keys older files kept them under.
var partColumns = [numParts]string{"provider", "model", "agent_id", "channel", "trigger", "cron_job_id", "session_key"}

// dimParts are the parts a dimension's key is made of (none for day and
// hour, which come from the call's time).
var dimParts = [numDims][]part{
	DimModel: {pProvider, pModel}, DimProvider: {pProvider}, DimAgent: {pAgent}, DimChannel: {pChannel},
	DimTrigger: {pTrigger}, DimCron: {pCron}, DimSession: {pSession},
}

// RolledUp names what daily rollups do not keep (a call's session, its
// hour) for the calls read from them.
const RolledUp = "(rolled up)"
