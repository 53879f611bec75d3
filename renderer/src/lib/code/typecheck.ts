// Type-checks a model file in the browser: TypeScript's language service over files held in
// memory (the model API's own sources as the 'strata' module, and the ES2022 library), so the
// code editor reports what `tsc` would, at the line where it is. Pure TypeScript with no DOM or
// Node: the sandbox worker runs it, and the tests run it in Node with the same files.
import ts from 'typescript';

/** A problem found in the code, at its place (0-based offsets into the text, 1-based line). */
export interface CodeDiagnostic {
  from: number;
  to: number;
  line: number;
  message: string;
  severity: 'error' | 'warning';
}

export const MODEL_FILE = '/model.ts';
const STRATA_ROOT = '/strata/';
const LIB_ROOT = '/lib/';

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts'],
  strict: true,
  noEmit: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: false,
  isolatedModules: true,
  skipLibCheck: true,
  types: [],
  paths: { strata: [`${STRATA_ROOT}index.ts`] },
};

export interface CheckerFiles {
  /** The model API's sources by path relative to app/model/ ("index.ts", "layers/core.ts", ...). */
  strata: Record<string, string>;
  /** TypeScript's library files by name ("lib.es2022.d.ts", "lib.es5.d.ts", ...). */
  libs: Record<string, string>;
}

export class ModelChecker {
  #text = '';
  #version = 0;
  readonly #files = new Map<string, string>();
  readonly #service: ts.LanguageService;

  constructor(files: CheckerFiles) {
    for (const [name, text] of Object.entries(files.strata)) this.#files.set(`${STRATA_ROOT}${name}`, text);
    for (const [name, text] of Object.entries(files.libs)) this.#files.set(`${LIB_ROOT}${name}`, text);
    const read = (file: string) => (file === MODEL_FILE ? this.#text : this.#files.get(file));
    const host: ts.LanguageServiceHost = {
      getCompilationSettings: () => OPTIONS,
      getScriptFileNames: () => [MODEL_FILE],
      getScriptVersion: (file) => (file === MODEL_FILE ? String(this.#version) : '0'),
      getScriptSnapshot: (file) => {
        const text = read(file);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => '/',
      getDefaultLibFileName: () => `${LIB_ROOT}lib.es2022.d.ts`,
      fileExists: (file) => read(file) !== undefined,
      readFile: read,
      directoryExists: (dir) => dir === '/' || [...this.#files.keys()].some((file) => file.startsWith(dir.endsWith('/') ? dir : `${dir}/`)),
      getDirectories: () => [],
    };
    this.#service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /** The problems in `text` as a model file: syntax first, then types. */
  check(text: string): CodeDiagnostic[] {
    this.#text = text;
    this.#version++;
    const syntax = this.#service.getSyntacticDiagnostics(MODEL_FILE);
    const all = syntax.length ? syntax : this.#service.getSemanticDiagnostics(MODEL_FILE);
    return all.map((d) => toDiagnostic(d, text));
  }
}

function toDiagnostic(diagnostic: ts.Diagnostic, text: string): CodeDiagnostic {
  const from = diagnostic.start ?? 0;
  const to = Math.min(text.length, from + Math.max(diagnostic.length ?? 0, 1));
  return {
    from,
    to,
    line: text.slice(0, from).split('\n').length,
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
    severity: diagnostic.category === ts.DiagnosticCategory.Warning ? 'warning' : 'error',
  };
}

/** The model file as JavaScript a Function can run (CommonJS, types removed), and where each of its lines came from. */
export function transpile(text: string): { js: string; sourceLine: (line: number) => number | null } {
  const output = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true, inlineSources: false } });
  const js = output.outputText.replace(/\n\/\/# sourceMappingURL=.*$/, '');
  const lines = sourceLines(JSON.parse(output.sourceMapText ?? '{"mappings": ""}').mappings as string);
  return { js, sourceLine: (line) => lines[line - 1] ?? null };
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** For each generated line (0-based), the 1-based source line of its first mapping (a source map's "mappings", VLQ). */
function sourceLines(mappings: string): (number | null)[] {
  let sourceLine = 0;
  return mappings.split(';').map((line) => {
    let first: number | null = null;
    for (const segment of line.split(',').filter(Boolean)) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >> 1) : value >> 1);
          value = shift = 0;
        }
      }
      if (fields.length >= 3) {
        sourceLine += fields[2]!;
        first ??= sourceLine + 1;
      }
    }
    return first;
  });
}
