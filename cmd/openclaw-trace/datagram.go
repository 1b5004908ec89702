package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
)

// openDatagrams opens the unix datagram and UDP intakes that are enabled
// (an empty OCT_SOCKET_PATH or OCT_UDP_ADDR disables one).
func (m *Main) openDatagrams(parser *codec.Parser) error {
	cfg := m.Config
	if cfg.SocketPath != "" {
		u := listener.NewUnixgram(cfg.SocketPath, m.Queue, parser)
		u.Mode = os.FileMode(cfg.SocketMode)
		u.Logger = m.Logger.With("component", "unixgram")
		if err := u.Open(); err != nil {
			return fmt.Errorf("%w (%s)", err, socketHint(err))
		}
		m.Unixgram = u
		m.account(codec.Unixgram, &u.Counters)
	}
	if cfg.UDPAddr != "" {
		u := listener.NewUDP(cfg.UDPAddr, m.Queue, parser)
		u.Logger = m.Logger.With("component", "udp")
		if err := u.Open(); err != nil {
			return fmt.Errorf("%w (set OCT_UDP_ADDR, empty disables)", err)
		}
		m.UDP = u
		m.account(codec.UDP, &u.Counters)
	}
	return nil
}

// socketHint says what the operator can do about a socket that would not
// open; every remedy ends in choosing another OCT_SOCKET_PATH.
func socketHint(err error) string {
	switch {
	case errors.Is(err, listener.ErrSocketInUse):
		return "is openclaw-trace already running? stop it or set OCT_SOCKET_PATH"
	case errors.Is(err, listener.ErrNotSocket):
		return "remove it or set OCT_SOCKET_PATH"
	}
	return "create the directory, fix its permissions or set OCT_SOCKET_PATH"
}

// closeDatagrams stops reading; what was read is handled before it returns.
func (m *Main) closeDatagrams() error {
	var errs []error
	if m.Unixgram != nil {
		if err := m.Unixgram.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close unixgram: %w", err))
		}
	}
	if m.UDP != nil {
		if err := m.UDP.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close udp: %w", err))
		}
	}
	return errors.Join(errs...)
}
