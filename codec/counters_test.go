package codec

import (
	"fmt"
	"math"
	"sync"
	"testing"
)

// TestCountersOffer: an offer is received whole, or dropped whole with the
// queue's reason: queue_full while full, shutdown once closed.
func TestCountersOffer(t *testing.T) {
	q := NewQueue(3)
	var c Counters
	ev := Event{Trace: &Trace{}}
	steps := []struct {
		evs     int
		close   bool
		wantErr error
	}{
		{2, false, nil},
		{2, false, ErrQueueFull}, // 1 slot left: none of the 2 go in
		{1, false, nil},
		{1, true, ErrQueueClosed},
	}
	for i, s := range steps {
		if s.close {
			q.Close()
		}
		evs := make([]Event, s.evs)
		for j := range evs {
			evs[j] = ev
		}
		if err := c.Offer(q, evs...); err != s.wantErr {
			t.Fatalf("step %d: Offer = %v, want %v", i, err, s.wantErr)
		}
	}
	got := c.Load()
	var want Counts
	want.Received = 6
	want.Dropped[DropQueueFull] = 2
	want.Dropped[DropShutdown] = 1
	if got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	// What the producer passed on is what the queue holds.
	if queued := int64(q.Len()); got.Received != queued+got.DroppedTotal() {
		t.Errorf("received %d != queued %d + dropped %d", got.Received, queued, got.DroppedTotal())
	}
}

// TestCountsAddUp: a producer's and the writer's counts of one transport
// add up to received = written + Σ dropped once nothing is in flight.
func TestCountsAddUp(t *testing.T) {
	var producer, writer Counters
	producer.Units.Add(4)
	producer.Bytes.Add(400)
	producer.Received.Add(5) // 5 events passed on
	producer.Drop(DropDecodeError, 1)
	producer.Drop(DropInvalid, 2)
	producer.ClientReports.Add(1)
	producer.ClientReportedDrops.Add(9)

	var sum Counts
	sum.Add(producer.Load())
	sum.Add(writer.Load())
	if got := sum.InFlight(); got != 5 {
		t.Errorf("in flight before the writer = %d, want 5", got)
	}
	writer.Written.Add(3)
	writer.Dropped[DropWriteError].Add(1)
	writer.Dropped[DropShutdown].Add(1)

	sum = Counts{}
	for _, c := range []*Counters{&producer, &writer} {
		sum.Add(c.Load())
	}
	want := Counts{Units: 4, Bytes: 400, Received: 8, Written: 3, ClientReports: 1, ClientReportedDrops: 9}
	want.Dropped[DropDecodeError], want.Dropped[DropInvalid] = 1, 2
	want.Dropped[DropWriteError], want.Dropped[DropShutdown] = 1, 1
	if sum != want {
		t.Errorf("sum = %+v, want %+v", sum, want)
	}
	if got := sum.InFlight(); got != 0 {
		t.Errorf("in flight = %d, want 0 (received %d, written %d, dropped %d)", got, sum.Received, sum.Written, sum.DroppedTotal())
	}
	by := sum.ByReason()
	if len(by) != int(NumDropReasons) || by["invalid"] != 2 || by["write_error"] != 1 || by["evicted"] != 0 {
		t.Errorf("ByReason = %v", by)
	}
}

// TestCountersConcurrent: counters are safe to update from several
// goroutines while a page reads them.
func TestCountersConcurrent(t *testing.T) {
	var c Counters
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				c.Units.Add(1)
				c.Drop(DropInvalid, 1)
				c.Offered(2, nil)
				_ = c.Load()
			}
		})
	}
	wg.Wait()
	got := c.Load()
	if got.Units != 4000 || got.Received != 12000 || got.Dropped[DropInvalid] != 4000 {
		t.Errorf("counts = %+v", got)
	}
}

// Client-reported drops saturate at math.MaxInt64 wherever they add up:
// in one datagram's reports, in a component's counters and in the sum
// over components. Two client_stats near int64 max made
// openclaw_trace_client_reported_drops_total negative.
func TestReportedDropsSaturate(t *testing.T) {
	const near = math.MaxInt64 - 1
	report := fmt.Sprintf(`{"type":"client_stats","client":"node","dropped":%d}`, int64(near))
	b, err := NewParser().Datagram([]byte("["+report+","+report+"]"), UDP)
	if err != nil {
		t.Fatal(err)
	}
	if b.Reports != 2 || b.ReportedDrops != math.MaxInt64 {
		t.Errorf("one datagram: %d reports, %d drops; want 2 and %d", b.Reports, b.ReportedDrops, int64(math.MaxInt64))
	}
	var a, o Counters
	for range 2 {
		a.Reported(1, near)
	}
	o.Reported(1, near)
	if got := a.Load(); got.ClientReports != 2 || got.ClientReportedDrops != math.MaxInt64 {
		t.Errorf("one component: %d reports, %d drops; want 2 and %d", got.ClientReports, got.ClientReportedDrops, int64(math.MaxInt64))
	}
	sum := a.Load()
	sum.Add(o.Load())
	if sum.ClientReportedDrops != math.MaxInt64 {
		t.Errorf("summed: %d drops, want %d", sum.ClientReportedDrops, int64(math.MaxInt64))
	}
}
