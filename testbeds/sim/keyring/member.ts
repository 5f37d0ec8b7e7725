// A control-plane member as the test beds play it: at boot (and at every "restart", as a member repaved
// with a new image would be) it reads each keyring from the key store, runs it, and reports what it runs
// in kube-system/itinerant-control-plane-keyring. Nodes booting read the keyrings the same way.
import { heldAtBoot, KEY_PURPOSES, keyringAnnotation, type HeldKeyring, type Keyring, type KeyPurpose } from '../../../src/core/keyring.js';
import { CONTROL_PLANE_REPORT, readKeyringDocument, type KeyringStore } from '../../../src/activities/keyring.js';

export interface ControlPlaneMemberOptions {
  clusterName: string;
  store: KeyringStore;
  /** Member name in the report (default cp-0). */
  member?: string;
  /**
   * Write the report ConfigMap's data (upsert), and put `nodeAnnotations` on the member's own Node (the
   * control-plane nodes): a member restarted with a new keyring holds it as a repaved node would.
   */
  report(data: Record<string, string>, nodeAnnotations: Record<string, string>): Promise<void>;
  /**
   * Run new keyrings (restart the API server with them); resolves once the member serves with them. At boot
   * it is called once with every ring (`changed` undefined), then once per changed ring.
   */
  run?(rings: Partial<Record<KeyPurpose, Keyring>>, changed?: KeyPurpose): Promise<void>;
  /** How long a "restart" takes beyond `run` (default 300 ms). */
  restartDelayMs?: number;
  pollMs?: number;
  log?: (line: string) => void;
}

export interface ControlPlaneMember {
  /** What this member runs now, per purpose. */
  running(purpose: KeyPurpose): Keyring | undefined;
  /** The latest keyrings in the key store (as a node booting now would read them). */
  latest(purpose: KeyPurpose): Keyring | undefined;
  /** Node annotations for a node booting now: the keyring of every purpose it holds. */
  bootAnnotations(): Record<string, string>;
  restarts: number;
  /** Read the key store now and run what changed (the poll does this too). */
  sync(): Promise<void>;
  close(): void;
}

export async function startControlPlaneMember(opts: ControlPlaneMemberOptions): Promise<ControlPlaneMember> {
  const member = opts.member ?? 'cp-0';
  const latest = new Map<KeyPurpose, Keyring>();
  const running = new Map<KeyPurpose, Keyring>();
  let closed = false;
  let busy: Promise<void> | undefined;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const report = () =>
    opts.report(
      Object.fromEntries([...running].map(([purpose, ring]) => [`${member}.${purpose}`, JSON.stringify(heldAtBoot(ring))])),
      Object.fromEntries([...running].map(([purpose, ring]) => [keyringAnnotation(purpose), JSON.stringify(heldAtBoot(ring))])),
    );

  async function syncOnce(): Promise<void> {
    for (const purpose of KEY_PURPOSES) {
      const found = await readKeyringDocument(opts.store, { cluster: opts.clusterName, purpose });
      if (found) latest.set(purpose, found.doc.ring);
    }
    if (running.size === 0) {
      // boot: every ring at once
      const rings = Object.fromEntries(latest) as Partial<Record<KeyPurpose, Keyring>>;
      if (opts.run) await opts.run(rings);
      for (const [purpose, ring] of latest) running.set(purpose, ring);
      await report();
      return;
    }
    // then one restart per changed ring, as a member repaved for each phase would be
    for (const purpose of KEY_PURPOSES) {
      const ring = latest.get(purpose);
      if (!ring || running.get(purpose)?.version === ring.version) continue;
      const next = Object.fromEntries([...running, [purpose, ring]]) as Partial<Record<KeyPurpose, Keyring>>;
      if (opts.run) await opts.run(next, purpose);
      await sleep(opts.restartDelayMs ?? 300);
      running.set(purpose, ring);
      m.restarts++;
      opts.log?.(`control-plane member ${member} runs ${purpose} keyring v${ring.version}`);
      await report();
    }
  }
  const sync = () => (busy ??= syncOnce().finally(() => (busy = undefined)));

  const m: ControlPlaneMember = {
    running: (p) => running.get(p),
    latest: (p) => latest.get(p),
    bootAnnotations: () => Object.fromEntries([...latest].map(([p, ring]) => [keyringAnnotation(p), JSON.stringify(heldAtBoot(ring) satisfies HeldKeyring)])),
    restarts: 0,
    sync,
    close: () => {
      closed = true;
    },
  };
  await sync();
  void (async () => {
    while (!closed) {
      await sleep(opts.pollMs ?? 250);
      if (closed) break;
      await sync().catch((e: unknown) => opts.log?.(`control-plane member ${member}: ${(e as Error).message}`));
    }
  })();
  return m;
}

export const reportConfigMap = (data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: CONTROL_PLANE_REPORT.namespace, name: CONTROL_PLANE_REPORT.name },
  data,
});
