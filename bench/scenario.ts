import type { DevServer } from '../testbeds/temporal/temporal-cli.js';

export type Size = 'tiny' | 'full';

export interface ScenarioContext {
  server: DevServer;
  size: Size;
  log(line: string): void;
}

/** One benchmark scenario: it measures side by side in one run and returns its figures (JSON), goals included. */
export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<Record<string, unknown>>;
}
