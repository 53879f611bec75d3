// Shortcuts use Cmd on macOS and Ctrl elsewhere, as desktop apps do.
const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** "Ctrl+O" or "⌘O", for labels and tooltips. */
export function shortcutLabel(key: string): string {
  return isMac ? `⌘${key}` : `Ctrl+${key}`;
}

/** Whether a key event is the shortcut Cmd/Ctrl + key (and no other modifier but Shift). */
export function isShortcut(event: KeyboardEvent, key: string): boolean {
  const modifier = isMac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
  return modifier && !event.altKey && event.key.toLowerCase() === key.toLowerCase();
}
