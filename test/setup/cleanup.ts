// Runs in every test file: what tmp() made is removed when the file's tests end.
import { afterAll } from 'vitest';
import { removeTmp } from '../helpers/tmp.js';

afterAll(() => removeTmp());
