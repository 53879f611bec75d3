// Hands bytes to the browser as a file download (browser mode's exports, and SVG/PNG of the graph).
export function downloadBytes(fileName: string, mimeType: string, bytes: Uint8Array | string): void {
  const blob = new Blob([bytes as BlobPart], { type: mimeType });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click's task has run.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The file name without its folders (either separator) and, optionally, its extension. */
export function baseName(path: string, dropExtension = false): string {
  const name = path.split(/[\\/]/).filter(Boolean).pop() ?? path;
  return dropExtension ? name.replace(/\.[^.]+$/, '') || name : name;
}
