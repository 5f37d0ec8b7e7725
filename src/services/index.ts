// The stateful services whose own decommission protocol itinerant speaks, by the name a runbook's input
// gives in `service`. Another database plugs in here with its own adapter.
import type { StatefulServiceAdapter, StatefulServiceName } from '../core/decommission.js';
import { cassandraAdapter } from './cassandra/adapter.js';

export const STATEFUL_ADAPTERS: Record<StatefulServiceName, StatefulServiceAdapter> = { cassandra: cassandraAdapter };
