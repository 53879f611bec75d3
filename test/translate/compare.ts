// How the translation tests compare outputs: the largest difference relative to the
// output's scale, so near-zero entries do not dominate.

/** max |actual - reference| / max |reference|. */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}
