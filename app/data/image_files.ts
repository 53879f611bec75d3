// Which files are images, by name: shared by the image loaders and by the app's file lists
// (which must not load sharp to name a file).
import path from 'node:path';

/** File extensions read as images (case-insensitive); other files are skipped, as Keras skips them. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.gif', '.webp', '.tif', '.tiff', '.avif', '.bmp'];

/** True for a file name with one of IMAGE_EXTENSIONS. */
export function isImageFile(file: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}
