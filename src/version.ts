import { readFileSync } from 'node:fs';

// Read at runtime from the package root, so src/ (tests) and dist/ (the build) agree.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const NAME: string = pkg.name;
export const VERSION: string = pkg.version;
