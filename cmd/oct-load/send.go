package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sender sends one event; a send the transport could not take at once is
// a drop (errDropped), as it is for a fire-and-forget client.
type sender interface {
	send(b []byte) error
	close() error
}

var errDropped = errors.New("dropped by the sender")

func newSender(l *Load) (sender, error) {
	switch l.Transport {
	case "unixgram":
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: l.Socket, Net: "unixgram"})
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", l.Socket, err)
		}
		if err := setSndBuf(c, l.SndBuf); err != nil {
			c.Close()
			return nil, err
		}
		return &datagram{c: c}, nil
	case "udp":
		c, err := net.Dial("udp", l.UDPAddr)
		if err != nil {
			return nil, fmt.Errorf("dial udp %s: %w", l.UDPAddr, err)
		}
		if err := setSndBuf(c.(*net.UDPConn), l.SndBuf); err != nil {
			c.Close()
			return nil, err
		}
		return &datagram{c: c.(*net.UDPConn)}, nil
	case "http":
		return newHTTPSender(l.URL+"/v1/traces", l.Encoding), nil
	}
	return nil, fmt.Errorf("unknown transport %q (unixgram, udp or http)", l.Transport)
}

// datagram writes with one write(2) and never waits: Go's own Write would
// park on EAGAIN until the socket has room, which no real client does.
type datagram struct {
	c interface {
		syscall.Conn
		io.Closer
	}
}

func (d *datagram) send(b []byte) error {
	raw, err := d.c.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	if err := raw.Write(func(fd uintptr) bool {
		_, werr = syscall.Write(int(fd), b)
		return true
	}); err != nil {
		return err
	}
	if errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.ENOBUFS) || errors.Is(werr, syscall.ECONNREFUSED) {
		return errDropped
	}
	return werr
}

func (d *datagram) close() error { return d.c.Close() }

// setSndBuf sets SO_SNDBUF when n > 0 (the kernel caps it at
// net.core.wmem_max and doubles it for bookkeeping).
func setSndBuf(c interface{ SetWriteBuffer(int) error }, n int) error {
	if n <= 0 {
		return nil
	}
	if err := c.SetWriteBuffer(n); err != nil {
		return fmt.Errorf("set SO_SNDBUF: %w", err)
	}
	return nil
}

// httpSender posts from a few workers; when all are busy the event is
// dropped, as a client with a bounded outbox would.
type httpSender struct {
	url, ctype string
	work       chan []byte
	wg         sync.WaitGroup
	rejected   atomic.Int64 // 429, 503 and transport errors

	mu        sync.Mutex
	latencies []time.Duration // of answered requests, for the percentiles
}

const httpWorkers = 8

func newHTTPSender(url, encoding string) *httpSender {
	h := &httpSender{url: url, ctype: "application/" + encoding, work: make(chan []byte, httpWorkers)}
	for range httpWorkers {
		h.wg.Go(h.worker)
	}
	return h
}

func (h *httpSender) send(b []byte) error {
	select {
	case h.work <- b:
		return nil
	default:
		return errDropped
	}
}

func (h *httpSender) worker() {
	for b := range h.work {
		start := time.Now()
		resp, err := http.Post(h.url, h.ctype, bytes.NewReader(b))
		if err != nil {
			h.rejected.Add(1)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		h.mu.Lock()
		h.latencies = append(h.latencies, took)
		h.mu.Unlock()
		if resp.StatusCode != http.StatusAccepted {
			h.rejected.Add(1)
		}
	}
}

// percentiles returns the latency at each quantile q (0..1) of the
// answered requests.
func (h *httpSender) percentiles(qs ...float64) []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]time.Duration, len(qs))
	if len(h.latencies) == 0 {
		return out
	}
	sorted := slices.Clone(h.latencies)
	slices.Sort(sorted)
	for i, q := range qs {
		out[i] = sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
	}
	return out
}

func (h *httpSender) close() error {
	close(h.work)
	h.wg.Wait()
	return nil
}
