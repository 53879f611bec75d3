// Strata's version, from package.json: written into exported files (ONNX producer_version).
import { readFileSync } from 'node:fs';

export const STRATA_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
