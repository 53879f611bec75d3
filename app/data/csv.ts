// CSV files of numeric features and one label column, parsed by csv-parse (quoting, escaped
// quotes, CRLF, a byte-order mark and ragged rows are its business). Every feature cell must be
// a finite decimal number; the labels are class ids, string categories or regression targets.
import { type CsvError, parse } from 'csv-parse/sync';
import { type Dataset, makeDataset } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import type { NdArray } from './ndarray.ts';
import { readFileOrThrow } from '../io/read_file.ts';

/**
 * How the label column is read:
 * - 'classIds': integers 0, 1, 2, ... → int32 class ids (n,)
 * - 'categories': any strings → class ids by sorted name, with classNames
 * - 'regression': numbers → float32 targets (n, 1), the shape a Dense(1) output has
 * - 'auto' (the default): 'classIds' when every label is a non-negative integer, else
 *   'regression' when every label is a number, else 'categories'.
 */
export type CsvLabels = 'auto' | 'classIds' | 'categories' | 'regression';

export interface CsvOptions {
  /** The label column: its name in the header, or its 0-based index (negative counts from the end: -1 is the last). */
  labelColumn: string | number;
  /** The first line names the columns (default true). */
  header?: boolean;
  /** The field delimiter (default ','). */
  delimiter?: string;
  labels?: CsvLabels;
}

export interface CsvDataset extends Dataset {
  /** The feature columns' names (from the header, else 'column 1', 'column 2', ...), in x's column order. */
  featureNames: string[];
  /** The label column's name. */
  labelName: string;
  /** The file line (1-based) of each sample, for messages about a sample. */
  lines: number[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const CLASS_ID = /^\+?\d+$/;

/**
 * Reads a CSV file as float32 features x (n, columns) and one label array y. Errors are one
 * line naming the file, and the line and column of a bad cell.
 */
export function loadCsv(file: string, options: CsvOptions): CsvDataset {
  const { header = true, delimiter = ',', labels = 'auto' } = options;
  const text = readFileOrThrow(file, DataFormatError);
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { delimiter, bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as typeof rows;
  } catch (error) {
    throw new DataFormatError(`${file}: ${(error as CsvError).message.replace(/\s*\n\s*/g, ' ')}`);
  }
  const names = header ? rows.shift()?.record : undefined;
  if (rows.length === 0) throw new DataFormatError(`${file}: no data rows${header ? ' after the header' : ''}`);
  const width = rows[0]!.record.length;
  const columnNames = names ?? Array.from({ length: width }, (_, i) => `column ${i + 1}`);
  if (width < 2) throw new DataFormatError(`${file}: one column; a CSV dataset needs feature columns and a label column (is the delimiter '${delimiter}' right?)`);

  const label = labelIndex(options.labelColumn, columnNames, header, file);
  const featureColumns = columnNames.map((_, i) => i).filter((i) => i !== label);
  const describe = (line: number, column: number) =>
    `${file}:${line}: column ${column + 1}${header ? ` ('${columnNames[column]}')` : ''}`;

  const n = rows.length;
  const x = new Float32Array(n * featureColumns.length);
  rows.forEach(({ record, info }, r) => {
    featureColumns.forEach((column, c) => {
      const cell = record[column]!;
      if (cell === '') throw new DataFormatError(`${describe(info.lines, column)}: missing value`);
      if (!NUMBER.test(cell)) throw new DataFormatError(`${describe(info.lines, column)}: '${cell}' is not a number`);
      const value = Math.fround(Number(cell));
      if (!Number.isFinite(value)) throw new DataFormatError(`${describe(info.lines, column)}: ${cell} is outside float32's range`);
      x[r * featureColumns.length + c] = value;
    });
  });

  const cells = rows.map(({ record, info }) => {
    const cell = record[label]!;
    if (cell === '') throw new DataFormatError(`${describe(info.lines, label)}: missing label`);
    return cell;
  });
  const kind = labels === 'auto' ? (cells.every((cell) => CLASS_ID.test(cell)) ? 'classIds' : cells.every((cell) => NUMBER.test(cell)) ? 'regression' : 'categories') : labels;
  let y: NdArray;
  let classNames: string[] | undefined;
  if (kind === 'categories') {
    classNames = [...new Set(cells)].sort();
    const ids = new Map(classNames.map((name, i) => [name, i]));
    y = { dtype: 'int32', shape: [n], data: Int32Array.from(cells, (cell) => ids.get(cell)!) };
  } else {
    const pattern = kind === 'classIds' ? CLASS_ID : NUMBER;
    const bad = cells.findIndex((cell) => !pattern.test(cell) || (kind === 'classIds' && Number(cell) > 2 ** 31 - 1));
    if (bad >= 0) {
      const wanted = kind === 'classIds' ? 'a class id (an integer 0, 1, 2, ...)' : 'a number';
      throw new DataFormatError(`${describe(rows[bad]!.info.lines, label)}: label '${cells[bad]}' is not ${wanted}`);
    }
    y =
      kind === 'classIds'
        ? { dtype: 'int32', shape: [n], data: Int32Array.from(cells, Number) }
        : { dtype: 'float32', shape: [n, 1], data: Float32Array.from(cells, Number) };
  }
  const features: NdArray = { dtype: 'float32', shape: [n, featureColumns.length], data: x };
  const dataset = makeDataset(features, y, classNames ? { classNames } : {});
  return { ...dataset, featureNames: featureColumns.map((i) => columnNames[i]!), labelName: columnNames[label]!, lines: rows.map(({ info }) => info.lines) };
}

function labelIndex(column: string | number, names: string[], header: boolean, file: string): number {
  if (typeof column === 'number') {
    const index = column < 0 ? names.length + column : column;
    if (!Number.isInteger(column) || index < 0 || index >= names.length) {
      throw new DataFormatError(`${file}: labelColumn ${column} is outside the ${names.length} columns (0..${names.length - 1}, or -1 for the last)`);
    }
    return index;
  }
  if (!header) throw new DataFormatError(`${file}: labelColumn '${column}' is a name, but the file has no header; give the column's index`);
  const index = names.indexOf(column);
  if (index < 0) throw new DataFormatError(`${file}: no column '${column}' in the header (columns: ${names.join(', ')})`);
  return index;
}
