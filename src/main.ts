#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8
import { main } from './cli.ts';

await main(process.argv);
