'use strict';
// Where the client sends: the sidecar's addresses, read the way the sidecar
// reads its own. Each address is the explicit option, else the sidecar's
// variable (OCT_SOCKET_PATH, OCT_UDP_ADDR, OCT_PORT with OCT_BIND), else the
// sidecar's default, so a client given the sidecar's environment reaches that
// sidecar on every path: the unix socket, the UDP fallback and HTTP for large
// events. An address the sidecar does not listen on (an empty variable, port
// 0, a value it would refuse) is null: events that need it are counted as
// drops, never sent somewhere else.

const net = require('node:net');

const ADDRESS_DEFAULTS = Object.freeze({
  socketPath: '/run/openclaw-trace.sock',
  udpAddr: '127.0.0.1:9090',
  port: 9090,
  bind: '127.0.0.1',
});

// loopbackFor turns a listen host into one to send to: a wildcard (all
// interfaces) is reached on loopback, as `openclaw-trace report` does.
function loopbackFor(host) {
  return host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

function validPort(p) {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

// parsePort reads a decimal port; anything else is null.
function parsePort(s) {
  if (typeof s === 'number') return validPort(s) ? s : null;
  if (typeof s !== 'string' || !/^\d{1,5}$/.test(s)) return null;
  const p = Number(s);
  return validPort(p) ? p : null;
}

// splitHostPort reads "host:port", "[v6]:port" or ":port" like Go's
// net.SplitHostPort; null when it is none of those.
function splitHostPort(s) {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(s);
  if (!m) return null;
  const port = parsePort(m[3]);
  if (port === null) return null;
  return { host: loopbackFor(m[1] !== undefined ? m[1] : m[2]), port };
}

function hostPort(host, port) {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function has(env, name) {
  return env[name] !== undefined;
}

function given(v) {
  return v !== undefined && v !== null;
}

// resolveTargets returns {socketPath, udpHost, udpPort, httpUrl} for the
// options and the environment; '' or null where there is no such address.
function resolveTargets(opts, env) {
  const socketPath = given(opts.socketPath)
    ? String(opts.socketPath)
    : has(env, 'OCT_SOCKET_PATH')
      ? env.OCT_SOCKET_PATH
      : ADDRESS_DEFAULTS.socketPath;

  const envUDP = has(env, 'OCT_UDP_ADDR') ? env.OCT_UDP_ADDR : ADDRESS_DEFAULTS.udpAddr;
  const baseUDP = envUDP === '' ? null : splitHostPort(envUDP);
  let udp = baseUDP;
  if (given(opts.udpHost) || given(opts.udpPort)) {
    const port = given(opts.udpPort) ? parsePort(opts.udpPort) : baseUDP ? baseUDP.port : ADDRESS_DEFAULTS.port;
    const host = given(opts.udpHost) ? String(opts.udpHost) : baseUDP ? baseUDP.host : '127.0.0.1';
    udp = port === null ? null : { host, port };
  }

  let httpUrl = '';
  if (given(opts.httpUrl) && opts.httpUrl !== '') {
    httpUrl = String(opts.httpUrl).replace(/\/+$/, '');
  } else {
    const port = given(opts.httpPort)
      ? parsePort(opts.httpPort)
      : has(env, 'OCT_PORT')
        ? parsePort(env.OCT_PORT) // 0 (a free port) cannot be known here
        : ADDRESS_DEFAULTS.port;
    const host = given(opts.udpHost)
      ? String(opts.udpHost)
      : loopbackFor(has(env, 'OCT_BIND') ? env.OCT_BIND : ADDRESS_DEFAULTS.bind);
    if (port !== null) httpUrl = `http://${hostPort(host, port)}`;
  }

  return {
    socketPath,
    udpHost: udp ? udp.host : null,
    udpPort: udp ? udp.port : null,
    httpUrl,
  };
}

module.exports = { resolveTargets, splitHostPort, hostPort, ADDRESS_DEFAULTS };
