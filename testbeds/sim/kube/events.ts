// core/v1 Events, so that the worker can record what it does on the objects it acts on (src/activities/kube-events.ts)
// and tests can read them back. Stored like any other resource: no aggregation, no expiry.
export const EVENTS_RESOURCE = {
  group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true,
  shortNames: ['ev'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], hasGeneration: false, hasStatus: false,
  subresources: {},
};
