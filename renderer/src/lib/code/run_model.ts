// Runs a model file's code and returns the model it exports, as Keras JSON: the code editor's
// "run" step, inside the sandbox worker. The code is transpiled (types removed) and run as a
// Function whose only import is 'strata' (the model API); its default export must be a model
// or a function that returns one. An error is reported at the line it comes from: the line
// that names the layer at fault, else the line the stack points at.
import type { KerasModelJson } from '../../../../app/contract/api.ts';
import * as strata from '../../../../app/model/index.ts';
import { transpile, type CodeDiagnostic } from './typecheck.ts';

export type RunResult = { json: KerasModelJson; subclassed: boolean } | { diagnostics: CodeDiagnostic[] };

/** Lines the Function constructor puts before the body ("function anonymous(...\n) {\n"). */
const FUNCTION_HEADER_LINES = 2;

export function runModelCode(text: string): RunResult {
  const { js, sourceLine } = transpile(text);
  const module = { exports: {} as Record<string, unknown> };
  const require = (name: string) => {
    if (name === 'strata') return strata;
    throw new Error(`only 'strata' can be imported in a model file here, not '${name}'`);
  };
  strata.clearSession();
  try {
    // The model file's own code, in the worker that has no DOM, no Node and no network.
    new Function('require', 'exports', 'module', js)(require, module.exports, module);
    let model = module.exports.default;
    if (typeof model === 'function' && !(model.prototype instanceof strata.Model)) model = (model as () => unknown)();
    if (!(model instanceof strata.Model)) {
      return fail(text, 'the file must `export default` a model (new Sequential(...), new Model(...), or an instance of a subclass of Model)', /export\s+default/);
    }
    const json = JSON.parse(model.toJSON()) as KerasModelJson;
    return { json, subclassed: model.isSubclassed };
  } catch (error) {
    return { diagnostics: [diagnosticAt(text, error, sourceLine)] };
  }
}

function fail(text: string, message: string, near: RegExp): RunResult {
  const match = near.exec(text);
  const from = match?.index ?? 0;
  return { diagnostics: [{ from, to: from + (match?.[0].length ?? 1), line: text.slice(0, from).split('\n').length, message, severity: 'error' }] };
}

/** Where an error from running the code belongs: the layer it names, else the stack's line. */
function diagnosticAt(text: string, error: unknown, sourceLine: (line: number) => number | null): CodeDiagnostic {
  const message = error instanceof Error ? error.message : String(error);
  const layer = (error as { context?: { layer?: string } }).context?.layer ?? /^([\w.-]+):/.exec(message)?.[1];
  const lines = text.split('\n');
  let line = layer ? lines.findIndex((l) => l.includes(`'${layer}'`) || l.includes(`"${layer}"`)) : -1;
  if (line < 0) {
    const frame = /<anonymous>:(\d+):\d+/.exec((error as Error)?.stack ?? '');
    const mapped = frame ? sourceLine(Number(frame[1]) - FUNCTION_HEADER_LINES) : null;
    if (mapped !== null) line = Math.min(lines.length - 1, mapped - 1);
  }
  if (line < 0) line = 0;
  const from = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0);
  return { from, to: from + Math.max(1, lines[line]!.length), line: line + 1, message, severity: 'error' };
}
