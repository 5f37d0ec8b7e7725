#!/usr/bin/env node
// The `itinerant` command: runs src/cli/main.ts through tsx, in this process.
import { tsImport } from 'tsx/esm/api';

await tsImport('../src/cli/main.ts', import.meta.url);
