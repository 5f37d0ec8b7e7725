import type { Testbed } from '../testbeds/index.js';
import type { DevServer } from '../testbeds/temporal/temporal-cli.js';

export type Size = 'tiny' | 'full';

export interface ScenarioContext {
  server: DevServer;
  size: Size;
  /** Which Kubernetes the scenario's sim process runs on (`--testbed`, default sim). */
  testbed: Testbed;
  log(line: string): void;
}

/** One benchmark scenario: it measures side by side in one run and returns its figures (JSON), goals included. */
export interface Scenario {
  name: string;
  /** The test beds it can run on (default: the sim only). */
  testbeds?: Testbed[];
  run(ctx: ScenarioContext): Promise<Record<string, unknown>>;
}
