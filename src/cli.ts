#!/usr/bin/env node
// Bootstrap: cache compiled code between runs (Node >= 22.1), then load the CLI.
import module from 'node:module';

try { module.enableCompileCache?.(); } catch { /* a read-only cache dir only costs speed */ }
await import('./main.js');
