import { describe, expect, it } from 'vitest';
import { instanceIdOfProviderID, providerIDOf } from '../../src/core/provider-id.js';

const OCID = 'ocid1.instance.oc1.iad.anuwcljrexample';

describe('instanceIdOfProviderID', () => {
  it.each([
    ['the cloud controller form oci://<OCID>', `oci://${OCID}`, OCID],
    ["OKE's default, the bare OCID", OCID, OCID],
    ['a sim instance', 'oci://ocid1.instance.oc1.iad.sim0123abcd', 'ocid1.instance.oc1.iad.sim0123abcd'],
    ['no providerID (the cloud controller has not initialized the node)', undefined, undefined],
    ['an empty providerID', '', undefined],
    ['another cloud', 'kind://docker/kind/worker', undefined],
    ['an OCI resource that is not an instance', 'oci://ocid1.volume.oc1.iad.abc', undefined],
    ['a name, not an OCID', 'oci://worker-1', undefined],
    ['the prefix alone', 'oci://', undefined],
  ])('%s', (_what, providerID, expected) => {
    expect(instanceIdOfProviderID(providerID)).toBe(expected);
  });

  it('reads back what providerIDOf writes', () => {
    expect(instanceIdOfProviderID(providerIDOf(OCID))).toBe(OCID);
  });
});
