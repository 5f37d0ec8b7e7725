import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// The project's custom search attributes, defined once (names and types): upserted by workflows, registered
// on the dev server at start (testbeds/temporal/temporal-cli.ts derives its --search-attribute flags from
// ITINERANT_SEARCH_ATTRIBUTES) and by the compose stack's init job (checked by test/infra/compose.test.ts).
// Pure code: workflows import it.
export const SA_CLUSTER = defineSearchAttributeKey('ItinerantCluster', SearchAttributeType.KEYWORD);
export const SA_NODE_GROUP = defineSearchAttributeKey('ItinerantNodeGroup', SearchAttributeType.KEYWORD);
export const SA_RUNBOOK = defineSearchAttributeKey('ItinerantRunbook', SearchAttributeType.KEYWORD);
export const SA_TARGET = defineSearchAttributeKey('ItinerantTarget', SearchAttributeType.KEYWORD);
export const SA_PHASE = defineSearchAttributeKey('ItinerantPhase', SearchAttributeType.KEYWORD);

export const ITINERANT_SEARCH_ATTRIBUTES = [SA_CLUSTER, SA_NODE_GROUP, SA_RUNBOOK, SA_TARGET, SA_PHASE];
