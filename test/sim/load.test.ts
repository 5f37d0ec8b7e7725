// The sim's own load report: requests counted by route, what the bench reads to see what its clients ask.
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../testbeds/sim/load.js';

describe('routeOf', () => {
  it.each([
    ['GET', '/api/v1/nodes', 'LIST nodes'],
    ['GET', '/api/v1/nodes/n1', 'GET nodes'],
    ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', 'LIST pods'],
    ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&watch=true&resourceVersion=7', 'WATCH pods'],
    ['GET', '/api/v1/watch/namespaces/shop/pods', 'WATCH pods'],
    ['POST', '/api/v1/namespaces/shop/pods/web-1/eviction', 'POST pods/eviction'],
    ['PATCH', '/api/v1/nodes/n1', 'PATCH nodes'],
    ['GET', '/apis/apps/v1/daemonsets', 'LIST daemonsets'],
    ['GET', '/apis/policy/v1/namespaces/shop/poddisruptionbudgets?watch=1', 'WATCH poddisruptionbudgets'],
    ['GET', '/api/v1/namespaces', 'LIST namespaces'],
    ['GET', '/api/v1/namespaces/shop', 'GET namespaces'],
    ['GET', '/version', 'GET /version'],
  ])('%s %s is %s', (method, url, route) => {
    expect(routeOf(method, url)).toBe(route);
  });
});
