import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseNsPids } from '../../../../shared/proc/parse-ns-pids.js';

const status = (nspid: string): string =>
  `Name:\tollama\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t412\nNgid:\t0\nPid:\t412\nPPid:\t1\n${nspid}NSsid:\t1\nVmPeak:\t  100 kB\n`;

test('parseNsPids: host process has one PID', () => {
  assert.deepEqual(parseNsPids(status('NSpid:\t412\n')), [412]);
});

test('parseNsPids: process in a container lists host PID then container PID', () => {
  assert.deepEqual(parseNsPids(status('NSpid:\t31337\t1\n')), [31337, 1]);
});

test('parseNsPids: old kernels without the line give an empty list', () => {
  assert.deepEqual(parseNsPids(status('')), []);
});

test('parseNsPids: this process, from the real /proc', () => {
  const pids = parseNsPids(readFileSync('/proc/self/status', 'utf8'));
  assert.equal(pids[0], process.pid);
});
