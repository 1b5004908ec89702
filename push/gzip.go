package push

import (
	"bytes"
	"compress/gzip"
	"fmt"
)

// Gzipper compresses bodies into one buffer reused from body to body. A
// sink keeps one per cycle and drops it after, so an idle sink holds no
// buffer.
type Gzipper struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

// Compress returns raw gzip'd; the result stays valid until the next call.
func (g *Gzipper) Compress(raw []byte) ([]byte, error) {
	g.buf.Reset()
	if g.zw == nil {
		// BestSpeed: measured on 5 MB of JSON, 56 ms and 25% of the size,
		// against 374 ms and 18% at the default level. The sidecar must not
		// take CPU from the agent for a few percent of bandwidth.
		g.zw, _ = gzip.NewWriterLevel(&g.buf, gzip.BestSpeed) // a valid level
	} else {
		g.zw.Reset(&g.buf)
	}
	if _, err := g.zw.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if err := g.zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	return g.buf.Bytes(), nil
}
