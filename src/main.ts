#!/usr/bin/env -S node --max-semi-space-size=8
import { main } from './cli.ts';

await main(process.argv);
