package view

// IdleBurn is what the calls no user message started cost: heartbeats,
// cron jobs, memory upkeep, overflow handling. It is what a gateway spends
// while nobody talks to it.
type IdleBurn struct {
	Calls         int64    `json:"calls"`    // calls whose trigger is known and is not "user"
	CostUSD       *float64 `json:"cost_usd"` // of the priced ones; null when none is
	UnpricedCalls int64    `json:"unpriced_calls"`
	// CostShare and CallShare are parts of the window's priced cost and of
	// its calls; CostShare is null when the window's cost is unknown or 0.
	CostShare *float64 `json:"cost_share"`
	CallShare float64  `json:"call_share"`
	// ByTrigger is the idle calls by trigger, the most expensive first.
	ByTrigger []TriggerCost `json:"by_trigger"`
	// UnknownCalls say nothing of their trigger (older senders): they are
	// in neither the idle nor the user share.
	UnknownCalls int64 `json:"unknown_trigger_calls"`
}

// TriggerCost is the idle calls of one trigger.
type TriggerCost struct {
	Trigger       string   `json:"trigger"`
	Calls         int64    `json:"calls"`
	CostUSD       *float64 `json:"cost_usd"`
	UnpricedCalls int64    `json:"unpriced_calls"`
}

// idleBurn sums the idle triggers of byTrigger (sorted, expensive first).
func idleBurn(byTrigger []Stats, total *Stats) IdleBurn {
	b := IdleBurn{ByTrigger: []TriggerCost{}}
	var nanos, priced int64
	for i := range byTrigger {
		st := &byTrigger[i]
		switch st.Key {
		case "":
			b.UnknownCalls += st.Calls
			continue
		case "user":
			continue
		}
		b.Calls += st.Calls
		b.UnpricedCalls += st.UnpricedCalls
		nanos += st.costNanos
		priced += st.PricedCalls
		b.ByTrigger = append(b.ByTrigger, TriggerCost{Trigger: st.Key, Calls: st.Calls, CostUSD: st.CostUSD, UnpricedCalls: st.UnpricedCalls})
	}
	if priced > 0 {
		c := usd(nanos)
		b.CostUSD = &c
		if total.costNanos > 0 {
			share := float64(nanos) / float64(total.costNanos)
			b.CostShare = &share
		}
	}
	if total.Calls > 0 {
		b.CallShare = float64(b.Calls) / float64(total.Calls)
	}
	return b
}
