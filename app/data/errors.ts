// The two kinds of error the dataset loaders throw, of the kinds in app/model/errors.ts (the
// CLI prints them as one line): bad file content or a missing file is a FormatError whose
// message starts with the file (and line, column or index where there is one); bad arguments
// or arrays that do not fit together are a ValueError that names the array and index.
import { FormatError, ValueError } from '../model/errors.ts';

/** A data file that is missing, unreadable or malformed: wrong magic, truncated data, a non-numeric CSV cell. */
export class DataFormatError extends FormatError {}

/** Arrays or arguments that do not fit: x and y of different lengths, a label out of range, a bad batch size. */
export class DataValueError extends ValueError {}
