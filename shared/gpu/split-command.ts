/**
 * The configured nvidia-smi command -> [file, ...leading args]. A value naming an existing file is used whole, so a
 * path with spaces needs no quoting; otherwise it is split like a shell word list (quotes and backslashes, no
 * expansion) so wrappers such as `sudo -n nvidia-smi` or `"/opt/my tools/smi" --id=0` work. No shell is involved.
 */
export function splitCommand(command: string, isFile: (path: string) => boolean): string[] {
  if (isFile(command)) return [command];
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in nvidia-smi command: ${command}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new Error('empty nvidia-smi command');
  return words;
}
