/**
 * The first lines of every script a node hard-linked as `ollama` (or `llama-server`) runs. Node 24 names its main
 * thread "MainThread", and /proc/<pid>/comm, which the collectors compare with the executable's name, shows that;
 * the kernel names a real process after the file it executed (its basename, cut to 15 bytes). So the script names
 * itself back, as the real binary is named.
 */
export const EXEC_NAME_PRELUDE = `'use strict';
try { require('node:fs').writeFileSync('/proc/self/comm', require('node:path').basename(process.execPath).slice(0, 15)); } catch {}
`;
