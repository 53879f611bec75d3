// A folder of images with one subfolder per class, as Keras's image_dataset_from_directory
// reads it: class ids follow the sorted subfolder names, samples come class by class in sorted
// file order (shuffle later, with batches()). Images are decoded and resized by sharp (libvips):
// alpha is dropped, grayscale images are repeated to 3 channels, and for channels 1 color
// images are converted to luma as Keras's load_img (Pillow) does. The result is float32 in
// [0, 1], channels-last (n, h, w, c).
import { type Dirent, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp, { type KernelEnum } from 'sharp';
import { type Dataset, makeDataset } from './dataset.ts';
import { DataFormatError, DataValueError } from './errors.ts';
import type { NdArray } from './ndarray.ts';
import { describeFileError } from '../io/read_file.ts';
import { LimitError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { IMAGE_EXTENSIONS, isImageFile } from './image_files.ts';
import { readableMemorySize } from '../model/summary.ts';

export { IMAGE_EXTENSIONS, isImageFile } from './image_files.ts';

const KERNELS = { bilinear: 'linear', nearest: 'nearest', bicubic: 'cubic', lanczos3: 'lanczos3' } as const;

export interface ImageFolderOptions {
  /** [height, width] every image is resized to (stretched, as Keras does without crop_to_aspect_ratio). */
  size: [number, number];
  /** 3 (RGB, the default) or 1 (grayscale). */
  channels?: 1 | 3;
  /** Resampling when resizing (default 'bilinear', as Keras). */
  interpolation?: keyof typeof KERNELS;
}

export interface ImageFolderDataset extends Dataset {
  classNames: string[];
  /** The image file of each sample. */
  files: string[];
}

/** Images decoded at once; sharp runs each on libuv's thread pool. */
const PARALLEL_DECODES = 4;

/**
 * Loads `dir`/<class>/**\/<image> as x float32 (n, h, w, channels) in [0, 1] and y int32
 * class ids (n,). An image that cannot be decoded is an error naming the file.
 */
export async function loadImageFolder(dir: string, options: ImageFolderOptions): Promise<ImageFolderDataset> {
  const classNames = listDir(dir)
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  if (classNames.length === 0) throw new DataFormatError(`${dir}: no class subfolders; put each class's images in a subfolder named after the class`);
  const files: string[] = [];
  const labels: number[] = [];
  classNames.forEach((name, id) => {
    for (const file of listImageFiles(path.join(dir, name))) {
      files.push(file);
      labels.push(id);
    }
  });
  if (files.length === 0) throw new DataFormatError(`${dir}: no images in its subfolders ${classNames.join(', ')} (read: ${IMAGE_EXTENSIONS.join(' ')})`);
  const x = await loadImages(files, options, dir);
  const dataset = makeDataset(x, { dtype: 'int32', shape: [files.length], data: Int32Array.from(labels) }, { classNames });
  return { ...dataset, classNames, files };
}

/**
 * Decodes image files into one float32 batch (n, h, w, channels) in [0, 1], resized and
 * converted exactly as loadImageFolder does for training, so a model trained on a folder
 * predicts on new files prepared the same way. An image that cannot be decoded is an error
 * naming the file; `source` names the images in the error about their total size.
 */
export async function loadImages(files: string[], options: ImageFolderOptions, source = files.length === 1 ? files[0]! : `${files.length} images`): Promise<NdArray<'float32'>> {
  const { size, channels = 3, interpolation = 'bilinear' } = options;
  const [height, width] = size;
  if (![height, width].every((d) => Number.isInteger(d) && d > 0)) throw new DataValueError(`size must be [height, width] in whole pixels, got [${size.join(', ')}]`);
  if (channels !== 1 && channels !== 3) throw new DataValueError(`channels must be 1 or 3, got ${channels}`);
  if (!Object.hasOwn(KERNELS, interpolation)) throw new DataValueError(`interpolation must be one of ${Object.keys(KERNELS).join(', ')}, got '${interpolation}'`);
  const pixels = height * width * channels;
  const bytes = files.length * pixels * Float32Array.BYTES_PER_ELEMENT;
  if (bytes > LIMITS.arrayBytes) {
    throw new LimitError(
      `${source}: ${files.length} images of ${height}x${width}x${channels} take ${readableMemorySize(bytes)} as float32, more than the ${readableMemorySize(LIMITS.arrayBytes)} of one dataset array; use fewer images or a smaller input size`,
      { file: source },
    );
  }
  const x = new Float32Array(files.length * pixels);
  const kernel = KERNELS[interpolation];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) {
      const image = await decode(files[i]!, width, height, channels, kernel);
      const offset = i * pixels;
      for (let p = 0; p < pixels; p++) x[offset + p] = image[p]! / 255;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DECODES, files.length) }, worker));
  return { dtype: 'float32', shape: [files.length, height, width, channels], data: x };
}

async function decode(file: string, width: number, height: number, channels: 1 | 3, kernel: keyof KernelEnum): Promise<Uint8Array> {
  try {
    const image = sharp(file, { limitInputPixels: LIMITS.imagePixels }).removeAlpha().resize(width, height, { fit: 'fill', kernel }).toColourspace('srgb');
    const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== width * height * 3) {
      throw new Error(`decoded to ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
    }
    return channels === 3 ? data : toGray(data);
  } catch (error) {
    const message = (error as Error).message;
    if (/exceeds pixel limit/.test(message)) {
      throw new LimitError(`${file}: the image is larger than the ${LIMITS.imagePixels.toLocaleString('en-US')} pixels Strata decodes; scale it down first`, { file });
    }
    const hint = path.extname(file).toLowerCase() === '.bmp' ? ' (sharp does not read BMP: convert it to PNG)' : '';
    throw new DataFormatError(`${file}: cannot decode the image: ${message}${hint}`);
  }
}

/**
 * RGB to one channel with ITU-R 601-2 luma, L = (299 R + 587 G + 114 B) / 1000 on the 8-bit
 * values, rounded as Pillow's convert('L') does (what Keras's load_img uses for grayscale).
 * libvips's own b-w conversion weighs linear light instead and gives pure red 127, not 76.
 */
function toGray(rgb: Uint8Array): Uint8Array {
  const gray = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < gray.length; i++) gray[i] = (rgb[3 * i]! * 19595 + rgb[3 * i + 1]! * 38470 + rgb[3 * i + 2]! * 7471 + 0x8000) >> 16;
  return gray;
}

function listDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new DataFormatError(`${dir}: cannot read the folder: ${describeFileError(error)}`);
  }
}

/** The image files under `dir`, recursively, in sorted order; hidden files and folders are skipped. */
export function listImageFiles(dir: string): string[] {
  const entries = listDir(dir)
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries.flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listImageFiles(full);
    return entry.isFile() && isImageFile(entry.name) ? [full] : [];
  });
}
