// The desktop window's security settings, in one module with no runtime `electron` import so
// that a test can read them (test/electron/security.test.ts) and the browser-mode server can
// send the same Content-Security-Policy. Electron's security checklist: context isolation (#3),
// sandbox (#4), CSP (#7), no navigation or new windows (#13, #14), sender checks (#17), a custom
// protocol instead of file:// (#18).
import type { BrowserWindowConstructorOptions } from 'electron';

/** The window loads the views from strata://app/ (a standard, secure scheme), never from file://. */
export const APP_SCHEME = 'strata';
export const APP_HOST = 'app';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * The views' Content-Security-Policy, also in renderer/index.html's meta tag: scripts,
 * workers, styles, images and connections from the app's own origin only, so no inline or
 * evaluated script and no remote origin. Images may be blob: URLs (the graph's PNG export). In
 * browser mode 'self' covers the WebSocket to the page's own host and port.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'";

/** The policy as a response header: plus what a meta tag cannot say (no page may frame the app). */
export const CONTENT_SECURITY_POLICY_HEADER = `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`;

/** Headers on every response of the app's own pages and files (the server's, the strata:// protocol's). */
export const RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/**
 * The code editor's sandbox worker (renderer/src/lib/code/code-sandbox.worker.ts) runs the
 * model code typed into it, so its policy (a worker's is the one its script arrives with)
 * allows evaluating code, and nothing else: no connection of any kind, no other script, no
 * worker. The rest of the app keeps CONTENT_SECURITY_POLICY, which evaluates nothing.
 */
export const SANDBOX_WORKER_POLICY = "default-src 'none'; script-src 'self' 'unsafe-eval'";

/** Whether a URL path is the built sandbox worker (Vite names it after its source: assets/code-sandbox.worker-HASH.js). */
export function isSandboxWorker(urlPath: string): boolean {
  return /^\/assets\/code-sandbox\.worker-[\w-]+\.js$/.test(urlPath);
}

/** The Content-Security-Policy header for a file of the app. */
export function contentSecurityPolicyFor(urlPath: string): string {
  return isSandboxWorker(urlPath) ? SANDBOX_WORKER_POLICY : CONTENT_SECURITY_POLICY_HEADER;
}

/** RESPONSE_HEADERS with the policy for this file. */
export function responseHeadersFor(urlPath: string): Readonly<Record<string, string>> {
  return isSandboxWorker(urlPath) ? { ...RESPONSE_HEADERS, 'Content-Security-Policy': SANDBOX_WORKER_POLICY } : RESPONSE_HEADERS;
}

/** The main window: the renderer gets no Node, runs sandboxed and isolated from the preload. */
export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    title: 'Strata',
    backgroundColor: '#ffffff',
    // Shown once the first frame is ready, so the window does not flash empty.
    show: false,
    webPreferences: {
      preload: preloadPath,
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
    },
  };
}

/** Whether `url` is a page of the app itself (IPC senders, navigation). Anything unparsable is not. */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}
