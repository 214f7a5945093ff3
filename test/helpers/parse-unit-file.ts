export interface UnitLine {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  /** Comment lines directly above this one, without the leading '#'. */
  readonly comments: readonly string[];
}

/** A systemd unit file as lines of settings (keys may repeat), each with the comment block just above it. */
export function parseUnitFile(text: string): UnitLine[] {
  const out: UnitLine[] = [];
  let section = '';
  let comments: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line.startsWith(';')) {
      comments.push(line.replace(/^[#;]\s?/, ''));
      continue;
    }
    const header = line.match(/^\[(.+)\]$/);
    if (header) section = header[1]!;
    else if (line.includes('=')) {
      const i = line.indexOf('=');
      out.push({ section, key: line.slice(0, i).trim(), value: line.slice(i + 1).trim(), comments });
    }
    comments = [];
  }
  return out;
}
