// The two kinds of error the dataset loaders throw. Both carry a name the CLI prints as one
// line (app/cli/errors.ts): bad file content or a missing file is a FormatError whose message
// starts with the file (and line, column or index where there is one); bad arguments or arrays
// that do not fit together are a ValueError that names the array and index.

/** A data file that is missing, unreadable or malformed: wrong magic, truncated data, a non-numeric CSV cell. */
export class DataFormatError extends Error {
  override name = 'FormatError';
}

/** Arrays or arguments that do not fit: x and y of different lengths, a label out of range, a bad batch size. */
export class DataValueError extends Error {
  override name = 'ValueError';
}
