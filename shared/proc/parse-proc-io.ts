/** The read counters of `/proc/<pid>/io` (proc(5)), all threads of the process together. */
export interface ProcIo {
  /** Bytes passed to read()-like calls: files, pipes and sockets alike, page cache hits included. */
  readonly rchar: number;
  /** Bytes the process made the kernel fetch from storage (page faults on mmapped files included). */
  readonly readBytes: number;
}

/** Parses `/proc/<pid>/io` ("key: value" lines); throws when either counter is missing. */
export function parseProcIo(text: string): ProcIo {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s*(\d+)\s*$/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]));
  }
  const rchar = values.get('rchar');
  const readBytes = values.get('read_bytes');
  if (rchar === undefined || readBytes === undefined) {
    throw new Error(`unparsable /proc io: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { rchar, readBytes };
}
