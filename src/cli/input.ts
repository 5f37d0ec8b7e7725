// Reading and validating `itinerant run` input: everything here happens before Temporal is contacted.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import YAML from 'yaml';
import { CliError, EXIT } from './errors.js';
import { findRunbook, RUNBOOKS, type PreparedStart } from './runbooks.js';

export interface InputOptions {
  input?: string;
  inputFile?: string;
}

const refuse = (message: string) => new CliError(message, EXIT.usage);

/** The input as given (`--input` JSON or `--input-file` JSON/YAML), not yet validated. */
export function readInput(opts: InputOptions): unknown {
  if (opts.input !== undefined && opts.inputFile !== undefined) throw refuse('use either --input or --input-file, not both');
  if (opts.input !== undefined) {
    try {
      return JSON.parse(opts.input);
    } catch (e) {
      throw refuse(`--input is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (opts.inputFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.inputFile, 'utf8');
    } catch (e) {
      throw refuse(`cannot read --input-file ${opts.inputFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const json = extname(opts.inputFile).toLowerCase() === '.json';
    try {
      return json ? JSON.parse(text) : YAML.parse(text);
    } catch (e) {
      throw refuse(`${opts.inputFile} is not valid ${json ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw refuse(`missing input: pass --input '<json>' or --input-file <path.json|.yaml>`);
}

/** Find the runbook and check the input with the workflow's own parser. */
export function prepareRun(runbookName: string, input: unknown): PreparedStart {
  const runbook = findRunbook(runbookName);
  if (!runbook) throw refuse(`unknown runbook "${runbookName}"; known runbooks: ${Object.keys(RUNBOOKS).join(', ')}`);
  const prepared = runbook.prepare(input);
  if (!prepared.ok) throw refuse(`invalid input for ${runbook.name}: ${prepared.message}`);
  return prepared.value;
}
