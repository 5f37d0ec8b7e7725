import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ITINERANT_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes.js';
import { itinerantHome, projectRoot, toolsDir } from '../../src/config/home.js';
import {
  ensureTemporalCli,
  findTemporalCli,
  getFreePort,
  startDevServer,
  type DevServer,
} from '../../testbeds/temporal/temporal-cli.js';

const quiet = () => undefined;

describe('home', () => {
  it('defaults to <project root>/.itinerant and honours ITINERANT_HOME', () => {
    const saved = process.env.ITINERANT_HOME;
    try {
      delete process.env.ITINERANT_HOME;
      expect(itinerantHome()).toBe(join(projectRoot(), '.itinerant'));
      process.env.ITINERANT_HOME = '/tmp/somewhere';
      expect(toolsDir('temporal')).toBe('/tmp/somewhere/tools/temporal');
    } finally {
      if (saved === undefined) delete process.env.ITINERANT_HOME;
      else process.env.ITINERANT_HOME = saved;
    }
  });
});

describe('temporal CLI discovery', () => {
  it('rejects a TEMPORAL_CLI_PATH that is not executable', () => {
    const saved = process.env.TEMPORAL_CLI_PATH;
    try {
      process.env.TEMPORAL_CLI_PATH = '/nonexistent/temporal';
      expect(() => findTemporalCli()).toThrow(/TEMPORAL_CLI_PATH/);
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
      else process.env.TEMPORAL_CLI_PATH = saved;
    }
  });

  it('getFreePort returns distinct usable ports', async () => {
    const [a, b] = await Promise.all([getFreePort(), getFreePort()]);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  });
});

describe('temporal dev server', () => {
  let cli: string;
  let dir: string;

  beforeAll(async () => {
    cli = await ensureTemporalCli();
    dir = mkdtempSync(join(tmpdir(), 'itinerant-devserver-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts in memory on a free port with the custom search attributes, and stops', async () => {
    const server = await startDevServer({ port: 0, ui: false, cliPath: cli, log: quiet });
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(server.uiUrl).toBeUndefined();
      expect(server.namespace).toBe('default');
      const connection = await Connection.connect({ address: server.address });
      try {
        const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        const custom = res.customAttributes ?? {};
        for (const { name } of ITINERANT_SEARCH_ATTRIBUTES) expect(custom).toHaveProperty(name);
      } finally {
        await connection.close();
      }
    } finally {
      await server.stop();
    }
    expect(server.process.exitCode !== null || server.process.signalCode !== null).toBe(true);
    await server.stop(); // idempotent
  });

  it('keeps workflow executions in a sqlite file across restarts', async () => {
    const dbFile = join(dir, 'state', 'temporal.sqlite');
    const logFile = join(dir, 'dev-server.log');
    const port = await getFreePort();
    const workflowId = `itinerant-persistence-${Date.now()}`;
    let server: DevServer | undefined = await startDevServer({ port, ui: false, dbFile, logFile, cliPath: cli, log: quiet });
    try {
      let connection = await Connection.connect({ address: server.address });
      try {
        const client = new Client({ connection });
        // No worker polls this queue: the execution just stays Running.
        await client.workflow.start('itinerantNoSuchWorkflow', {
          taskQueue: 'itinerant-no-worker',
          workflowId,
          args: [{ hello: 'world' }],
          searchAttributes: { ItinerantRunbook: ['persistence-test'] },
        });
      } finally {
        await connection.close();
      }
      await server.stop();

      // A fresh port: the one just freed may be taken by a test running beside this one (the server refuses a taken port).
      server = await startDevServer({ port: await getFreePort(), ui: false, dbFile, logFile, cliPath: cli, log: quiet });
      connection = await Connection.connect({ address: server.address });
      try {
        const client = new Client({ connection });
        const desc = await client.workflow.getHandle(workflowId).describe();
        expect(desc.status.name).toBe('RUNNING');
        expect(desc.type).toBe('itinerantNoSuchWorkflow');
        expect(desc.taskQueue).toBe('itinerant-no-worker');
      } finally {
        await connection.close();
      }
    } finally {
      await server?.stop();
    }
  });

  it('refuses a port that is already taken instead of probing the wrong server', async () => {
    const blocker = await startDevServer({ port: 0, ui: false, cliPath: cli, log: quiet });
    try {
      const port = blocker.port;
      await expect(startDevServer({ port, ui: false, cliPath: cli, log: quiet })).rejects.toThrow(/already in use/);
    } finally {
      await blocker.stop();
    }
  });

  it('fails fast with the tail of the server output when the server exits', async () => {
    const t0 = Date.now();
    await expect(
      startDevServer({ port: 0, ui: false, cliPath: cli, log: quiet, extraArgs: ['--no-such-flag'], startTimeoutMs: 30_000 }),
    ).rejects.toThrow(/exited early[\s\S]*no-such-flag/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
