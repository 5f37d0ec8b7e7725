// The OCI CLI (oci-cli from PyPI, installed by the test set-up), unmodified, against the simulated OCI API:
// the commands a new user tries answer as OCI does.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type SimHandle } from '../../testbeds/sim/index.js';
import { ensureOciCli } from '../../testbeds/oci-cli.js';

let sim: SimHandle;
let home: string;
let oci: string;
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'itinerant-oci-cli-'));
  [oci, sim] = await Promise.all([ensureOciCli(), startSim({ home, seedCassandra: false, bootDelayMs: 200, nodeReadyDelayMs: 100, terminateDelayMs: 300 })]);
}, 600_000);
afterAll(async () => {
  await sim?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** `oci <args> --endpoint <sim>` with the sim's config file; JSON output parsed, exit code and stderr kept. Never blocks the sim (async). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function cli(...args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  return new Promise((resolve) => {
    execFile(oci, ['--config-file', sim.ociConfigPath, '--endpoint', sim.ociUrl, ...args], { timeout: 120_000, env: { ...process.env, SUPPRESS_LABEL_WARNING: 'True' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined;
      } catch {
        stderr = `${stdout}\n${stderr}`; // not JSON: a usage error, shown with the failure
      }
      resolve({ code, json, stderr });
    });
  });
}
/** The ServiceError the CLI prints on stderr. */
const serviceError = (stderr: string) => JSON.parse(stderr.slice(stderr.indexOf('{'))) as { status: number; code: string; 'opc-request-id': string };

describe('the OCI CLI against the simulated OCI API', () => {
  it('lists shapes, the VNICs and VNIC attachments of an instance, regions and the compartment', async () => {
    const inst = sim.oci.fleet.summary().find((i) => i.lifecycleState === 'RUNNING')!;
    const C = sim.compartmentId;
    const [shapes, vnics, attachments, regions, compartment] = await Promise.all([
      cli('compute', 'shape', 'list', '--compartment-id', C),
      cli('compute', 'instance', 'list-vnics', '--instance-id', inst.id),
      cli('compute', 'vnic-attachment', 'list', '--compartment-id', C, '--instance-id', inst.id),
      cli('iam', 'region', 'list'),
      cli('iam', 'compartment', 'get', '--compartment-id', C),
    ]);
    expect(shapes.json.data.map((s: { shape: string }) => s.shape)).toContain('VM.Standard.E4.Flex');
    expect(vnics.json.data).toEqual([expect.objectContaining({ 'private-ip': inst.privateIp, 'is-primary': true, 'lifecycle-state': 'AVAILABLE' })]);
    expect(attachments.json.data).toEqual([expect.objectContaining({ 'instance-id': inst.id, 'lifecycle-state': 'ATTACHED', 'vnic-id': vnics.json.data[0].id })]);
    expect(regions.json.data).toContainEqual({ key: 'IAD', name: 'us-ashburn-1' });
    expect(compartment.json.data).toMatchObject({ id: C, 'lifecycle-state': 'ACTIVE' });
  });

  it('lists and gets subnets of the VCN', async () => {
    const subnet = sim.oci.network.createSubnet({ compartmentId: sim.compartmentId, vcnId: sim.oci.vcn.id, cidrBlock: '10.0.250.0/24', displayName: 'cli' }, undefined);
    const [list, get] = await Promise.all([
      cli('network', 'subnet', 'list', '--compartment-id', sim.compartmentId, '--vcn-id', sim.oci.vcn.id),
      cli('network', 'subnet', 'get', '--subnet-id', subnet.id),
    ]);
    expect(list.json.data.map((s: { id: string }) => s.id)).toContain(subnet.id);
    expect(get.json.data).toMatchObject({ 'cidr-block': '10.0.250.0/24', 'display-name': 'cli', 'vcn-id': sim.oci.vcn.id });
  });

  it('instance action SOFTRESET reboots a running instance; a compartment that does not exist is a 404, with OCI request ids after the client one', async () => {
    const inst = sim.oci.fleet.summary().find((i) => i.lifecycleState === 'RUNNING')!;
    const [reset, missing] = await Promise.all([
      cli('compute', 'instance', 'action', '--instance-id', inst.id, '--action', 'SOFTRESET'),
      cli('compute', 'instance', 'list', '--compartment-id', 'ocid1.compartment.oc1..nosuch'),
    ]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.json.data).toMatchObject({ id: inst.id, 'lifecycle-state': 'RUNNING' });
    expect(missing.code).toBe(1);
    const err = serviceError(missing.stderr);
    expect(err).toMatchObject({ status: 404, code: 'NotAuthorizedOrNotFound' });
    expect(err['opc-request-id']).toMatch(/^[0-9A-F]{32}\/[0-9A-F]{32}\/[0-9A-F]{32}$/); // the CLI's own id, then OCI's two
  });

  it('launch waits until RUNNING; terminate answers with a work request that --wait-for-state follows to SUCCEEDED', async () => {
    const [ad] = sim.oci.fleet.availabilityDomains;
    const image = sim.seeded!.images.prodNew;
    const launched = await cli('compute', 'instance', 'launch', '--compartment-id', sim.compartmentId, '--availability-domain', ad!.name, '--shape', 'VM.Standard.E4.Flex',
      '--shape-config', '{"ocpus": 1, "memoryInGBs": 16}', '--image-id', image, '--subnet-id', 'ocid1.subnet.oc1.iad.simcli', '--display-name', 'cli-launched',
      '--wait-for-state', 'RUNNING', '--wait-interval-seconds', '1');
    expect(launched.code, launched.stderr).toBe(0);
    const id = launched.json.data.id as string;
    expect(launched.json.data['lifecycle-state']).toBe('RUNNING');
    const terminated = await cli('compute', 'instance', 'terminate', '--instance-id', id, '--force', '--wait-for-state', 'SUCCEEDED', '--wait-interval-seconds', '1');
    expect(terminated.code, terminated.stderr).toBe(0);
    expect(terminated.json.data).toMatchObject({ status: 'SUCCEEDED', 'operation-type': 'TerminateInstance', resources: [expect.objectContaining({ identifier: id, 'action-type': 'DELETED' })] });
    expect(sim.oci.fleet.getInstance(id).lifecycleState).toBe('TERMINATED');
  });
});
