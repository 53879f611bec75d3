// The desktop window's security settings, read from the module main.ts builds the window with:
// isolation, sandbox, no Node in the page, a CSP without inline script or remote origins (the
// same in the views' meta tag and in both shells' response headers), the strata:// protocol
// serving the built views only, and which IPC senders count as the app.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isTrustedSender } from '../../app/electron/ipc.ts';
import { appFileResponse } from '../../app/electron/launch.ts';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  CONTENT_SECURITY_POLICY_HEADER,
  RESPONSE_HEADERS,
  contentSecurityPolicyFor,
  isAppUrl,
  responseHeadersFor,
  windowOptions,
} from '../../app/electron/security.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A policy as directive -> sources. */
function parsePolicy(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources]));
}

describe('the desktop window', () => {
  test('isolates and sandboxes the views, with no Node, no webview and web security on', () => {
    const options = windowOptions('/app/build/electron/preload.cjs');
    assert.deepEqual(options.webPreferences, {
      preload: '/app/build/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
    });
  });

  test('the CSP allows no inline or evaluated script and no remote origin', () => {
    const header = parsePolicy(CONTENT_SECURITY_POLICY_HEADER);
    assert.deepEqual(header.get('default-src'), ["'none'"]);
    assert.deepEqual(header.get('script-src'), ["'self'"]);
    assert.deepEqual(header.get('worker-src'), ["'self'"]);
    assert.deepEqual(header.get('connect-src'), ["'self'"]);
    assert.deepEqual(header.get('base-uri'), ["'none'"]);
    assert.deepEqual(header.get('frame-ancestors'), ["'none'"]);
    for (const [directive, sources] of header) {
      for (const source of sources) {
        // Keywords and the blob: scheme only: no host, no wildcard, no 'unsafe-*', no data: for scripts.
        assert.ok(["'self'", "'none'", 'blob:'].includes(source), `${directive} ${source}`);
      }
    }
    assert.equal(RESPONSE_HEADERS['Content-Security-Policy'], CONTENT_SECURITY_POLICY_HEADER);
    assert.equal(RESPONSE_HEADERS['X-Content-Type-Options'], 'nosniff');
  });

  test("only the code editor's sandbox worker may evaluate code, and it may connect nowhere", () => {
    const worker = parsePolicy(contentSecurityPolicyFor('/assets/code-sandbox.worker-Bx1_a9.js'));
    assert.deepEqual(worker.get('default-src'), ["'none'"], 'no connection, image, font or frame of any kind');
    assert.deepEqual(worker.get('script-src'), ["'self'", "'unsafe-eval'"]);
    assert.deepEqual([...worker.keys()].sort(), ['default-src', 'script-src']);
    assert.equal(responseHeadersFor('/assets/code-sandbox.worker-Bx1_a9.js')['Content-Security-Policy'], contentSecurityPolicyFor('/assets/code-sandbox.worker-Bx1_a9.js'));
    // Every other file, including names that only look like the worker's, keeps the app's policy.
    for (const other of ['/', '/index.html', '/assets/index-Bx1_a9.js', '/assets/code-sandbox.worker-x.js.map', '/x/assets/code-sandbox.worker-a.js', '/assets/code-sandbox.worker-a.js/../index.js']) {
      assert.equal(contentSecurityPolicyFor(other), CONTENT_SECURITY_POLICY_HEADER, other);
      assert.deepEqual(responseHeadersFor(other), RESPONSE_HEADERS, other);
    }
  });

  test("the views' meta tag carries the same policy (the header adds only frame-ancestors, which a meta tag cannot)", () => {
    const html = readFileSync(path.join(REPO, 'renderer/index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
    assert.ok(meta, 'renderer/index.html has no CSP meta tag');
    assert.equal(meta[1], CONTENT_SECURITY_POLICY);
    assert.equal(CONTENT_SECURITY_POLICY_HEADER, `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'an inline script');
  });

  test('only strata://app/ is the app: IPC from other pages and from subframes is not trusted', () => {
    assert.ok(isAppUrl(APP_ENTRY_URL));
    assert.ok(isAppUrl('strata://app/assets/index.js'));
    for (const url of ['strata://evil/index.html', 'strata://app.evil.example/', 'https://app/', 'file:///app/index.html', 'javascript:alert(1)', 'about:blank', '', 'not a url']) {
      assert.equal(isAppUrl(url), false, url);
    }
    assert.ok(isTrustedSender({ url: APP_ENTRY_URL, parent: null }));
    assert.equal(isTrustedSender({ url: APP_ENTRY_URL, parent: { url: APP_ENTRY_URL } }), false);
    assert.equal(isTrustedSender({ url: 'https://evil.example/', parent: null }), false);
    assert.equal(isTrustedSender(null), false);
  });
});

describe('the strata:// protocol', () => {
  test('serves the built views with the CSP, and nothing outside them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-protocol-'));
    try {
      const views = path.join(dir, 'views');
      mkdirSync(views);
      writeFileSync(path.join(views, 'index.html'), '<!doctype html><title>Strata</title>');
      writeFileSync(path.join(dir, 'secret.txt'), 'secret');
      symlinkSync(path.join(dir, 'secret.txt'), path.join(views, 'link.txt'));
      const page = await appFileResponse(views, APP_ENTRY_URL);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY_HEADER);
      assert.match(await page.text(), /<title>Strata/);
      for (const url of ['strata://app/../secret.txt', 'strata://app/%2e%2e/secret.txt', 'strata://app/link.txt', 'strata://other/index.html']) {
        const response = await appFileResponse(views, url);
        assert.equal(response.status, 404, url);
        assert.doesNotMatch(await response.text(), /secret$/, url);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
