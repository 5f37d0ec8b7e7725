import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server at start (see testbeds/temporal/temporal-cli.ts) and by the compose admin step.
export const SA_CLUSTER = defineSearchAttributeKey('ItinerantCluster', SearchAttributeType.KEYWORD);
export const SA_NODE_GROUP = defineSearchAttributeKey('ItinerantNodeGroup', SearchAttributeType.KEYWORD);
export const SA_RUNBOOK = defineSearchAttributeKey('ItinerantRunbook', SearchAttributeType.KEYWORD);
export const SA_TARGET = defineSearchAttributeKey('ItinerantTarget', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('ItinerantPhase', SearchAttributeType.KEYWORD);

export const ITINERANT_SEARCH_ATTRIBUTES = [SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK, SA_TARGET, SA_PHASE];
