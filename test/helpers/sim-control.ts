// Calls to a test bed's control API as its clients make them: the bearer token, and JSON bodies as application/json.
import type { SimHandle } from '../../testbeds/sim/index.js';

export type ControlFetch = (path: string, init?: { method?: string; body?: unknown }) => Promise<Response>;

/** fetch on `sim.controlUrl`; a body that is not a string is sent as JSON. */
export function controlApi(sim: Pick<SimHandle, 'controlUrl' | 'controlToken'>): ControlFetch {
  return (path, init = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${sim.controlToken}` };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const body = init.body === undefined || typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    return fetch(`${sim.controlUrl}${path}`, { method: init.method ?? 'GET', headers, ...(body !== undefined ? { body } : {}) });
  };
}
