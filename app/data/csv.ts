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

interface CsvTable {
  rows: { record: string[]; info: { lines: number } }[];
  columnNames: string[];
  /** "file:line: column 3 ('age')", for errors. */
  describe: (line: number, column: number) => string;
}

/** `header` 'auto': the first line is a header when any of its cells is not a number. */
function readTable(file: string, header: boolean | 'auto', delimiter: string): CsvTable & { header: boolean } {
  const text = readFileOrThrow(file, DataFormatError);
  let rows: CsvTable['rows'];
  try {
    rows = parse(text, { delimiter, bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as CsvTable['rows'];
  } catch (error) {
    throw new DataFormatError(`${file}: ${(error as CsvError).message.replace(/\s*\n\s*/g, ' ')}`);
  }
  const hasHeader = header === 'auto' ? (rows[0]?.record.some((cell) => !NUMBER.test(cell)) ?? false) : header;
  const names = hasHeader ? rows.shift()?.record : undefined;
  if (rows.length === 0) throw new DataFormatError(`${file}: no data rows${hasHeader ? ' after the header' : ''}`);
  const columnNames = names ?? Array.from({ length: rows[0]!.record.length }, (_, i) => `column ${i + 1}`);
  const describe = (line: number, column: number) => `${file}:${line}: column ${column + 1}${hasHeader ? ` ('${columnNames[column]}')` : ''}`;
  return { rows, columnNames, describe, header: hasHeader };
}

/** The numeric cells of `columns` as float32 (rows, columns); a bad cell is an error naming its line and column. */
function featureMatrix({ rows, describe }: CsvTable, columns: number[]): NdArray<'float32'> {
  const x = new Float32Array(rows.length * columns.length);
  rows.forEach(({ record, info }, r) => {
    columns.forEach((column, c) => {
      const cell = record[column]!;
      if (cell === '') throw new DataFormatError(`${describe(info.lines, column)}: missing value`);
      if (!NUMBER.test(cell)) throw new DataFormatError(`${describe(info.lines, column)}: '${cell}' is not a number`);
      const value = Math.fround(Number(cell));
      if (!Number.isFinite(value)) throw new DataFormatError(`${describe(info.lines, column)}: ${cell} is outside float32's range`);
      x[r * columns.length + c] = value;
    });
  });
  return { dtype: 'float32', shape: [rows.length, columns.length], data: x };
}

export interface CsvFeatureOptions {
  /** The first line names the columns (default: true when any cell of the first line is not a number). */
  header?: boolean;
  /** The field delimiter (default ','). */
  delimiter?: string;
  /** A column to leave out (a label column), by name or 0-based index (-1: the last). */
  skipColumn?: string | number;
}

/**
 * Reads every column of a CSV file (but `skipColumn`) as float32 features (rows, columns): the
 * input that model.predict() takes for a model trained with loadCsv.
 */
export function loadCsvFeatures(file: string, options: CsvFeatureOptions = {}): { x: NdArray<'float32'>; featureNames: string[] } {
  const { delimiter = ',', skipColumn } = options;
  const table = readTable(file, options.header ?? 'auto', delimiter);
  const skip = skipColumn === undefined ? -1 : labelIndex(skipColumn, table.columnNames, table.header, file);
  const columns = table.columnNames.map((_, i) => i).filter((i) => i !== skip);
  return { x: featureMatrix(table, columns), featureNames: columns.map((i) => table.columnNames[i]!) };
}

/**
 * Reads a CSV file as float32 features x (n, columns) and one label array y. Errors are one
 * line naming the file, and the line and column of a bad cell.
 */
export function loadCsv(file: string, options: CsvOptions): CsvDataset {
  const { header = true, delimiter = ',', labels = 'auto' } = options;
  const table = readTable(file, header, delimiter);
  const { rows, columnNames, describe } = table;
  const width = rows[0]!.record.length;
  if (width < 2) throw new DataFormatError(`${file}: one column; a CSV dataset needs feature columns and a label column (is the delimiter '${delimiter}' right?)`);

  const label = labelIndex(options.labelColumn, columnNames, header, file);
  const featureColumns = columnNames.map((_, i) => i).filter((i) => i !== label);
  const n = rows.length;
  const features = featureMatrix(table, featureColumns);

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
