// How the training views spell durations, rates and metrics.

/** "0:42", "12:05", "1:02:03" (Keras's ETA). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Keras's four decimals (scientific for tiny values); "–" for none. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (Number.isNaN(value)) return 'NaN';
  return Math.abs(value) < 1e-3 && value !== 0 ? value.toExponential(2) : value.toFixed(4);
}

/** "93.1%". */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(digits)}%`;
}

/** A logged value by its name: an accuracy as a percentage ("93.1%"), anything else as formatMetric. */
export function formatNamed(name: string, value: number | null | undefined, digits = 1): string {
  return /acc/.test(name) ? formatPercent(value, digits) : formatMetric(value);
}

/**
 * The metric a run is known by, among the names it logs: its accuracy, else its first other
 * metric (mae for a regression model), else the loss; val_ names and the learning rate aside.
 */
export function headlineMetric(names: readonly string[]): string {
  const own = names.filter((name) => !name.startsWith('val_') && name !== 'learning_rate');
  return own.find((name) => /acc/.test(name)) ?? own.find((name) => name !== 'loss' && !name.endsWith('_loss')) ?? 'loss';
}

/** "1,234/s". */
export function formatRate(samplesPerSecond: number | null | undefined): string {
  return samplesPerSecond ? `${Math.round(samplesPerSecond).toLocaleString('en-US')} samples/s` : '–';
}

/** "2025-03-14 09:15" in the viewer's time zone. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
