// Who may use a browser-mode server, as Jupyter decides it: a random token (128 bits) printed
// in the URL, exchanged on the first load for an HttpOnly, SameSite=Strict cookie; the Host
// header must name this machine (a DNS-rebinding page arrives with its own domain there); a
// WebSocket upgrade must come from the page's own origin. Pure decisions on header values,
// so the server's handlers stay short and the rules can be read in one place.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { networkInterfaces, hostname } from 'node:os';

export interface AccessPolicy {
  /** 32 hex digits: 128 random bits. */
  token: string;
  /** Unique per server run, so two servers on one machine (or tunnelled to one port) keep their own cookie. */
  cookieName: string;
  /** Host names (without port, lower case, IPv6 without brackets) that the Host header may give. */
  hostNames: ReadonlySet<string>;
}

export type Verdict = { allowed: true; via: 'token' | 'cookie' } | Refusal;
export interface Refusal {
  allowed: false;
  status: 400 | 401 | 403 | 404 | 405;
  /** One line for the refused client (never contains the token). */
  reason: string;
}

/** Names every local page reaches the server by; a rebinding attack cannot produce them. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '']);

export function createAccessPolicy(boundHost: string): AccessPolicy {
  return {
    token: randomBytes(16).toString('hex'),
    cookieName: `strata-session-${randomBytes(4).toString('hex')}`,
    hostNames: allowedHostNames(boundHost),
  };
}

/**
 * The host names a request may address: the loopback names (an SSH tunnel arrives as
 * 127.0.0.1, on whatever local port it chose, so the port is not compared), the bound address
 * itself, and for a wildcard address every address of this machine and its host name.
 */
export function allowedHostNames(boundHost: string): ReadonlySet<string> {
  const names = new Set([...LOOPBACK_NAMES, normalizeHostName(boundHost)]);
  if (WILDCARD_ADDRESSES.has(normalizeHostName(boundHost))) {
    for (const addresses of Object.values(networkInterfaces())) for (const { address } of addresses ?? []) names.add(normalizeHostName(address));
    names.add(hostname().toLowerCase());
  }
  names.delete('');
  return names;
}

function normalizeHostName(name: string): string {
  return name.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

/** A Host header: a name or IPv4 address, or an IPv6 address in brackets, then an optional port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[^:[\]\s/]+)(?::\d{1,5})?$/i;

/** The host name of a Host header ("127.0.0.1:8765", "[::1]:80", "box"), or null where it is not one. */
function hostNameOf(hostHeader: string): string | null {
  const match = HOST_HEADER.exec(hostHeader);
  return match ? normalizeHostName(match[1]!) : null;
}

/** Refuses a request whose Host header names another machine (DNS rebinding) or is missing. */
export function checkHost(policy: AccessPolicy, hostHeader: string | undefined): Refusal | null {
  const name = hostHeader ? hostNameOf(hostHeader) : null;
  if (name !== null && policy.hostNames.has(name)) return null;
  return { allowed: false, status: 403, reason: `Host header ${JSON.stringify(hostHeader ?? '')} does not name this server (allowed: ${[...policy.hostNames].join(', ')})` };
}

/** Refuses a WebSocket upgrade that a page of another origin started. Clients that are not browsers send no Origin. */
export function checkOrigin(originHeader: string | undefined, hostHeader: string | undefined): Refusal | null {
  if (originHeader === undefined || originHeader === `http://${hostHeader}`) return null;
  return { allowed: false, status: 403, reason: `WebSocket from origin ${JSON.stringify(originHeader)} refused: only the app's own pages may connect` };
}

/** Admits a request that carries the token (query `token`) or the session cookie, and nothing else. */
export function checkCredential(policy: AccessPolicy, cookieHeader: string | undefined, tokenParameter: string | null): Verdict {
  if (tokenParameter !== null) {
    return sameSecret(tokenParameter, policy.token)
      ? { allowed: true, via: 'token' }
      : { allowed: false, status: 403, reason: 'wrong token: use the URL that strata serve printed' };
  }
  const cookie = readCookie(cookieHeader, policy.cookieName);
  if (cookie === null) return { allowed: false, status: 401, reason: 'this Strata server needs its token: open the URL that strata serve printed (it ends in ?token=...)' };
  return sameSecret(cookie, policy.token)
    ? { allowed: true, via: 'cookie' }
    : { allowed: false, status: 403, reason: 'wrong session cookie: open the URL that strata serve printed' };
}

/** The Set-Cookie value that stands for the token from now on (no Max-Age: it ends with the browser session). */
export function sessionCookie(policy: AccessPolicy): string {
  return `${policy.cookieName}=${policy.token}; Path=/; HttpOnly; SameSite=Strict`;
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const pair of (header ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return null;
}

/** Compares in constant time, so the answer's timing says nothing about how much of a guess was right. */
function sameSecret(given: string, secret: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
